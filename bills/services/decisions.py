"""The approvers' decisions on a bill: approve, reject, revert (SPEC "Bill lifecycle" and
"Approvals"). Each locks the bill's row, asks the roles and the lifecycle, and writes one
history row; of two racing decisions, the second decides on what the first left.

Every transition service takes `version`: the bill's version the caller decided on (None: not
asked). Under the row lock a bill that changed since is a 409 (lifecycle.check_version)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Perm, approval_slot, require
from billing_site.core.errors import DomainError
from bills.models import Action, Bill, Status
from bills.services import lifecycle
from bills.services.history import Changes, HistoryEntry, bill_save, clean_comment
from usage.analysis import usage_anomalies

SLOT_LABELS = {"csm": "CSM", "sales": "Sales"}


def bill_approve(
    *, bill: Bill | int, user: User, comment: str = "", version: int | None = None
) -> Bill:
    """Give the user's approval (the CSM slot for Customer Success, the Sales slot for Sales);
    the bill becomes approved once its approvals are complete (Bill.approvals_complete).

    A bill whose month's usage looks suspicious (usage.analysis.usage_anomalies: far from the
    customer's own history) needs a comment; the history keeps the reason.
    The two approvals of a bill come from two different people (SPEC "Approvals"), whatever
    their roles are now.
    Raises DomainError: not_found; forbidden (not Sales or the customer's CSM); conflict (not a
    draft, the user's slot is already filled, or the user gave the other approval); invalid
    naming "comment".
    """
    comment = clean_comment(comment)
    with transaction.atomic():
        bill = lifecycle.bill_lock(bill=bill)
        require(user, Perm.APPROVE_BILL, bill)
        lifecycle.check(bill, "approve", version=version)
        # A month whose usage looks suspicious (usage.analysis) is approved only with a reason,
        # so a metering error is looked at before an invoice goes out.
        suspicious = usage_anomalies(keys=[(bill.customer_id, bill.year, bill.month)]).get(
            (bill.customer_id, bill.year, bill.month)
        )
        if suspicious and not comment:
            raise DomainError.invalid(
                f"The usage of this month looks suspicious ({suspicious}): say in a comment why "
                "you approve it.",
                "comment",
            )
        slot = approval_slot(user)
        holder_id = getattr(bill, f"{slot}_approved_by_id")
        if holder_id is not None:
            who = "you" if holder_id == user.pk else "another user"
            raise DomainError.conflict(
                f"Bill #{bill.pk} already has its {SLOT_LABELS[slot]} approval (from {who}); "
                "it needs the other approval now."
            )
        other = "sales" if slot == "csm" else "csm"
        if getattr(bill, f"{other}_approved_by_id") == user.pk:
            # Four eyes: whatever the user's role is now, they gave the other approval already
            # (e.g. approved as the CSM, then an admin made them Sales).
            raise DomainError.conflict(
                f"You already gave bill #{bill.pk}'s {SLOT_LABELS[other]} approval; its two "
                "approvals come from two different people."
            )
        setattr(bill, f"{slot}_approved_by", user)
        setattr(bill, f"{slot}_approved_at", timezone.now())
        if bill.approvals_complete:
            bill.status = Status.APPROVED
        entry = HistoryEntry(
            stakeholder=user,
            action=Action.APPROVED,
            from_status=Status.DRAFT,
            comment=comment,
            changes={"approval": slot, **({"suspicious_usage": suspicious} if suspicious else {})},
        )
        return bill_save(bill=bill, entry=entry)


def bill_reject(*, bill: Bill | int, user: User, comment: str, version: int | None = None) -> Bill:
    """Reject a draft: the overage is written off. A comment is required.

    Raises DomainError: not_found; forbidden; conflict (not a draft); invalid naming "comment".
    """
    comment = clean_comment(comment, required_to="reject a bill")
    with transaction.atomic():
        bill = lifecycle.bill_lock(bill=bill)
        require(user, Perm.REJECT_BILL, bill)
        lifecycle.check(bill, "reject", version=version)
        bill.status = Status.REJECTED
        entry = HistoryEntry(
            stakeholder=user, action=Action.REJECTED, from_status=Status.DRAFT, comment=comment
        )
        return bill_save(bill=bill, entry=entry)


def bill_revert(*, bill: Bill | int, user: User, comment: str, version: int | None = None) -> Bill:
    """Undo the latest decision: a rejection, the approval that completed the bill, or a
    partial approval. The bill returns to draft and the undone decision no longer counts.

    Raises DomainError: not_found; forbidden; conflict (nothing to undo); invalid "comment".
    """
    comment = clean_comment(comment, required_to="undo a decision")
    with transaction.atomic():
        bill = lifecycle.bill_lock(bill=bill)
        require(user, Perm.REVERT_BILL, bill)
        lifecycle.check(bill, "revert", version=version)
        from_status = bill.status
        changes: Changes = {}
        if bill.status == Status.REJECTED:
            changes["undone"] = "rejection"
        else:  # approved, or a draft with a partial approval
            slot = _latest_approval_slot(bill)
            changes["undone"] = f"{slot} approval"
            setattr(bill, f"{slot}_approved_by", None)
            setattr(bill, f"{slot}_approved_at", None)
        bill.status = Status.DRAFT
        entry = HistoryEntry(
            stakeholder=user,
            action=Action.REVERTED,
            from_status=from_status,
            comment=comment,
            changes=changes,
        )
        return bill_save(bill=bill, entry=entry)


def _latest_approval_slot(bill: Bill) -> str:
    given = [
        (getattr(bill, f"{slot}_approved_at"), slot)
        for slot in SLOT_LABELS
        if getattr(bill, f"{slot}_approved_by_id") is not None
    ]
    return max(given, key=lambda pair: pair[0] or timezone.now())[1]
