"""Finance's invoice actions: send an approved bill (its invoice is emailed) and void a sent one
(SPEC "Bill lifecycle": sent, voided)."""

from __future__ import annotations

import logging

from django.db import transaction

from accounts.models import User
from accounts.roles import Perm, require
from billing_site.core.errors import DomainError
from bills.invoices import invoice_deliver
from bills.models import Action, Bill, Status
from bills.services import lifecycle
from bills.services.history import HistoryEntry, bill_save, clean_comment

logger = logging.getLogger(__name__)


def bill_send(*, bill: Bill | int, user: User) -> Bill:
    """Mark an approved bill sent, then email the invoice once that has committed.

    If the mail fails, a second transaction puts the bill back to approved with a "send_failed"
    history row naming the error, and DomainError(kind="delivery") is raised: the send is never
    lost. Both transactions are durable: called inside a caller's atomic block, the mail could
    go out for a "sent" that the caller then rolls back, so that raises RuntimeError instead.
    Also raises DomainError: not_found; forbidden (not Finance); conflict (not approved).
    """
    # The lock is held only while the status changes, never while talking to the mail server.
    with transaction.atomic(durable=True):
        bill = lifecycle.bill_lock(bill=bill)
        require(user, Perm.SEND_BILL, bill)
        lifecycle.check(bill, "send")
        bill.status = Status.SENT
        entry = HistoryEntry(stakeholder=user, action=Action.SENT, from_status=Status.APPROVED)
        bill_save(bill=bill, entry=entry)
    try:
        invoice_deliver(bill=bill)
    except Exception as exc:
        logger.exception("Invoice email for bill %s failed", bill.pk)
        reason = f"{type(exc).__name__}: {exc}"[:500]
        with transaction.atomic(durable=True):
            bill = lifecycle.bill_lock(bill=bill)
            if bill.status == Status.SENT:
                bill.status = Status.APPROVED
                entry = HistoryEntry(
                    stakeholder=user,
                    action=Action.SEND_FAILED,
                    from_status=Status.SENT,
                    comment=f"The invoice email could not be delivered: {reason}",
                )
                bill_save(bill=bill, entry=entry)
        raise DomainError(
            f"The invoice for bill #{bill.pk} could not be emailed to "
            f"{bill.customer.billing_email} ({reason}). The bill is still approved; "
            "send it again once mail works.",
            kind="delivery",
        ) from exc
    return bill


def bill_void(*, bill: Bill | int, user: User, comment: str) -> Bill:
    """Void a sent bill; the customer-month may then be billed again. A comment is required.

    Raises DomainError: not_found; forbidden (not Finance); conflict (not sent); invalid
    naming "comment".
    """
    comment = clean_comment(comment, required_to="void a bill")
    with transaction.atomic():
        bill = lifecycle.bill_lock(bill=bill)
        require(user, Perm.VOID_BILL, bill)
        lifecycle.check(bill, "void")
        bill.status = Status.VOID
        entry = HistoryEntry(
            stakeholder=user, action=Action.VOIDED, from_status=Status.SENT, comment=comment
        )
        return bill_save(bill=bill, entry=entry)
