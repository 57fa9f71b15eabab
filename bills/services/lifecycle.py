"""The bill lifecycle (SPEC "Bill lifecycle"): the one table of which action moves a bill from
which status, who may take it, and how pages name it. The services, the buttons on the pages
and the templates' wording all read it; nothing else restates a status rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from accounts.models import User
from accounts.roles import Perm, approval_slot, can
from billing_site.core import periods
from billing_site.core.errors import DomainError
from billing_site.core.money import format_money, with_currency
from bills.models import Action, Bill, Status

# Namespace for PostgreSQL advisory locks that serialize bill creation per month.
_PERIOD_LOCK_NAMESPACE = 7_461_001


@dataclass(frozen=True)
class Transition:
    """One action on an existing bill.

    `name` is the action's one name in code, URLs and the API ("revert": PATCH .../revert);
    `label` is what its button says ("Undo"); `done` finishes "only draft bills can be ...".
    """

    name: str
    perm: Perm
    from_statuses: tuple[Status, ...]
    label: str
    done: str
    comment_required: bool
    help: str


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "approve",
            Perm.APPROVE_BILL,
            (Status.DRAFT,),
            "Approve",
            "approved",
            False,
            "Give your approval; the bill is approved once its approvals are complete.",
        ),
        Transition(
            "reject",
            Perm.REJECT_BILL,
            (Status.DRAFT,),
            "Reject",
            "rejected",
            True,
            "Reject: the overage is written off.",
        ),
        # Also from a draft, but only one with a partial approval to undo (see `allows`).
        Transition(
            "revert",
            Perm.REVERT_BILL,
            (Status.APPROVED, Status.REJECTED, Status.DRAFT),
            "Undo",
            "reverted",
            True,
            "Undo the latest decision: the bill goes back to draft.",
        ),
        # Also an approved bill whose month's usage changed since (see `allows`).
        Transition(
            "update",
            Perm.UPDATE_BILL,
            (Status.DRAFT, Status.REJECTED, Status.APPROVED),
            "Update",
            "updated",
            True,
            "Recompute from current usage and terms, or reprice; earlier approvals stop counting.",
        ),
        Transition(
            "send",
            Perm.SEND_BILL,
            (Status.APPROVED,),
            "Send",
            "sent",
            False,
            "Email the invoice to the customer's billing email.",
        ),
        Transition(
            "void",
            Perm.VOID_BILL,
            (Status.SENT,),
            "Void",
            "voided",
            True,
            "Void the sent bill: a credit note cancels its invoice; the month may be billed again.",
        ),
        # Only while the month's usage differs from what was sent (see `allows`).
        Transition(
            "dismiss",
            Perm.UPDATE_BILL,
            (Status.SENT,),
            "Dismiss",
            "dismissed",
            True,
            "Keep the invoice as sent although the month's usage changed; say why.",
        ),
        # Money received against the invoice; the bill is paid once payments cover its amount
        # (bills/services/payments.py). Undo: only a bill with a payment that counts (`allows`).
        Transition(
            "record_payment",
            Perm.RECORD_PAYMENT,
            (Status.SENT,),
            "Record payment",
            "paid",
            False,
            "Record money received against the invoice; the bill is paid once it is covered.",
        ),
        Transition(
            "undo_payment",
            Perm.RECORD_PAYMENT,
            (Status.SENT, Status.PAID),
            "Undo payment",
            "undone",
            True,
            "Undo a payment recorded by mistake: it stays on record but no longer counts.",
        ),
        # Only a void bill not billed again yet (see `allows`).
        Transition(
            "rebill",
            Perm.CREATE_BILL,
            (Status.VOID,),
            "Re-bill",
            "billed again",
            False,
            "Bill this customer-month again from its current usage and the customer's terms.",
        ),
    )
}


@dataclass(frozen=True)
class StatusView:
    """How the pages and the invoice present a bill in one status."""

    amount_label: str  # the heading over the amount
    struck: bool  # the amount is not owed (written off, voided)
    stamp: str  # the mark across an invoice (page and PDF) that is not a sent one; "" for none
    next_step: str  # who acts next; "{needed}", "{approvers}" and "{email}" are filled in


STATUS_VIEWS: dict[str, StatusView] = {
    Status.DRAFT: StatusView(
        "Amount due",
        False,
        "DRAFT",
        "It waits for {needed} from {approvers}.",
    ),
    Status.APPROVED: StatusView(
        "Amount due", False, "DRAFT", "It is approved and waits for Finance to send it."
    ),
    Status.REJECTED: StatusView(
        "Written off",
        True,
        "REJECTED",
        "It was rejected: the overage is written off unless the decision is undone.",
    ),
    Status.SENT: StatusView("Invoiced", False, "", "The invoice was sent to {email}."),
    # No stamp: the paid invoice is the one that was emailed, byte for byte.
    Status.PAID: StatusView("Paid", False, "", "It is paid in full: nothing is left to do."),
    Status.VOID: StatusView("Voided", True, "VOID", "It is void: the month may be billed again."),
}

# What each history row's action reads as in the timeline: "<who> <verb>".
HISTORY_VERBS: dict[str, str] = {
    Action.CREATED: "created the bill",
    Action.APPROVED: "approved",
    Action.REJECTED: "rejected",
    Action.REVERTED: "undid a decision",
    Action.UPDATED: "updated the bill",
    Action.SENT: "sent the invoice",
    Action.SEND_FAILED: "could not send the invoice",
    Action.VOIDED: "voided the bill",
    Action.REBILLED: "billed the month again",
    Action.FLAG_DISMISSED: "kept the sent invoice although usage changed",
    Action.PAYMENT_RECORDED: "recorded a payment",
    Action.PAYMENT_UNDONE: "undid a payment",
    # The outbox's rows name who asked for the email; the worker did the rest (services.outbox).
    Action.EMAIL_QUEUED: "queued the email",
    Action.EMAIL_RETRY: "asked for the email: an attempt failed",
    Action.EMAIL_DELIVERED: "asked for the email: delivered",
    Action.EMAIL_FAILED: "asked for the email: it failed",
}


def status_next_step(bill: Bill) -> str:
    """The sentence that says who acts next on this bill (STATUS_VIEWS' `next_step`, filled)."""
    needed = bill.approvals_needed
    approvers = (
        "the customer's CSM and Sales"
        if bill.requires_csm_approval
        else "Sales or the customer's CSM"
    )
    return STATUS_VIEWS[bill.status].next_step.format(
        needed=f"{needed} more approval{'s' * (needed != 1)}",
        approvers=approvers,
        email=bill.customer.billing_email,
    )


def allows(bill: Bill, action: str) -> bool:
    """Whether the bill's status allows `action` now (the role is not asked here)."""
    if bill.status not in TRANSITIONS[action].from_statuses:
        return False
    if action == "revert" and bill.status == Status.DRAFT:
        return bill.approvals_given > 0  # only a partial approval can be undone on a draft
    if action in ("approve", "send"):
        return not bill.inputs_changed  # never approve or send what stale inputs computed
    if action == "update" and bill.status == Status.APPROVED:
        return bill.inputs_changed
    if action == "dismiss":
        return bill.usage_changed_after_sending
    if action == "rebill":
        return not _replaced(bill)
    if action == "void":
        return not bill.amount_paid  # payments that count are undone first
    if action == "undo_payment":
        return bill.amount_paid > 0
    return True


def _replaced(bill: Bill) -> bool:
    # Selectors join replaced_by, so a list asks no query per row.
    try:
        return bill.replaced_by is not None
    except Bill.DoesNotExist:
        return False


def parse_version(value: object) -> int | None:
    """The bill version a request says it decided on: None when not given ("" or None), else a
    whole number from 1. Raises DomainError(kind="invalid") naming "version"."""
    if value is None or value == "":
        return None
    text = str(value).strip().strip('"')  # an If-Match header may quote it: "3"
    if isinstance(value, bool) or not text.isascii() or not text.isdigit() or int(text) < 1:
        raise DomainError.invalid(
            "The bill version is a whole number from 1 (the bill's `version`).", "version"
        )
    return int(text)


def check_version(bill: Bill, version: int | None) -> None:
    """Under the bill's row lock: the bill is still at the `version` the request decided on
    (None: not asked). Of two racing requests sent with the same version, the second finds the
    first's save and gets DomainError(kind="conflict") (SPEC "Bill lifecycle")."""
    if version is not None and version != bill.version:
        raise DomainError.conflict(
            f"Bill #{bill.pk} changed since you looked at it (now: {bill.status}): reload and "
            "decide again."
        )


def check(bill: Bill, action: str, *, version: int | None = None) -> None:
    """Raises DomainError(kind="conflict") unless the bill is still at `version` (when given,
    check_version) and its status allows `action`."""
    check_version(bill, version)
    if allows(bill, action):
        return
    if action == "revert" and bill.status == Status.DRAFT:
        raise DomainError.conflict(f"Bill #{bill.pk} is a draft with no decision to undo.")
    if action in ("approve", "send") and bill.status in TRANSITIONS[action].from_statuses:
        if bill.usage_changed:
            raise DomainError.conflict(
                f"Bill #{bill.pk} was computed from {bill.api_usage:,} API calls, but "
                f"{periods.label(bill.year, bill.month)} now has {bill.month_usage():,}: "
                "recompute first."
            )
        raise DomainError.conflict(
            f"The customer's terms for {periods.label(bill.year, bill.month)} changed after "
            f"bill #{bill.pk} was computed: recompute first."
        )
    if action == "dismiss" and bill.status == Status.SENT:
        raise DomainError.conflict(
            f"Bill #{bill.pk}'s month has the usage it was sent with: there is nothing to dismiss."
        )
    if action in ("void", "record_payment", "undo_payment"):
        _check_payments(bill, action)
    if action == "rebill" and bill.status == Status.VOID:
        raise DomainError.conflict(
            f"Bill #{bill.pk} was already billed again as bill #{bill.replaced_by.pk}."
        )
    transition = TRANSITIONS[action]
    allowed = " or ".join(transition.from_statuses)
    if action == "revert":
        allowed = "approved, rejected or partly approved"
    if action == "update":
        allowed = "draft or rejected (or approved with changed usage or terms)"
    raise DomainError.conflict(
        f"Bill #{bill.pk} is {bill.status}; only {allowed} bills can be {transition.done}."
    )


def _check_payments(bill: Bill, action: str) -> None:
    paid = with_currency(format_money(bill.amount_paid), bill.currency)
    if action == "void" and bill.amount_paid:
        raise DomainError.conflict(
            f"Bill #{bill.pk} has payments of {paid} recorded: undo them before voiding it."
        )
    if action == "record_payment" and bill.status == Status.PAID:
        raise DomainError.conflict(f"Bill #{bill.pk} is paid in full: nothing is left to pay.")
    if action == "undo_payment" and bill.status in TRANSITIONS[action].from_statuses:
        raise DomainError.conflict(f"Bill #{bill.pk} has no payment to undo.")
    if action == "undo_payment":
        raise DomainError.conflict(
            f"Bill #{bill.pk} is {bill.status}; payments are undone only on sent or paid bills."
        )


def bill_available_actions(*, bill: Bill, user: User) -> frozenset[str]:
    """The actions (TRANSITIONS keys) this user may take on this bill now: the role and the
    status, exactly as the services decide. Approve also needs the user's approval slot to be
    free (a second Sales approval is a 409)."""
    actions = set()
    for name, transition in TRANSITIONS.items():
        if not allows(bill, name) or not can(user, transition.perm, bill):
            continue
        if name == "approve":
            slot = approval_slot(user)
            if slot is None or getattr(bill, f"{slot}_approved_by_id") is not None:
                continue
            if user.pk in (bill.csm_approved_by_id, bill.sales_approved_by_id):  # four eyes
                continue
        actions.add(name)
    return frozenset(actions)


def bill_lock(*, bill: Bill | int) -> Bill:
    """The bill's row (with its customer), locked until the transaction ends, so racing
    decisions queue up and each decides on what the one before it left.

    Raises DomainError(kind="not_found") for an unknown id.
    """
    pk = bill.pk if isinstance(bill, Bill) else bill
    try:
        return Bill.objects.select_for_update(of=("self",)).select_related("customer").get(pk=pk)
    except Bill.DoesNotExist:
        raise DomainError(f"Bill #{pk} does not exist.", kind="not_found") from None


def period_lock(year: int, month: int) -> None:
    """Serialize every bill creation for one month (PostgreSQL); SQLite serializes all writes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [_PERIOD_LOCK_NAMESPACE, year * 100 + month]
            )


def billable_period(year: int, month: int) -> tuple[int, int]:
    """A period that may be billed: a real month (core.periods.parse) that has ended.

    Raises DomainError(kind="invalid") naming "year" or "month".
    """
    year, month = periods.parse(year, month)
    if not periods.has_ended(year, month):
        raise DomainError.invalid(
            f"{periods.label(year, month)} has not ended yet; bill it once the month is over.",
            "month",
        )
    return year, month
