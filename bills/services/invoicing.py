"""Finance's invoice actions: send an approved bill (its invoice is numbered, dated and emailed)
and void a sent one (a credit note cancels its invoice and is emailed). SPEC "Bill lifecycle":
sent, voided."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from accounts.models import User
from accounts.roles import Perm, require
from billing_site.core.errors import DomainError
from bills.invoices import credit_note_message, document_deliver, invoice_message
from bills.models import Action, Bill, Status
from bills.services import lifecycle
from bills.services.documents import credit_note_issue, invoice_issue
from bills.services.history import HistoryEntry, bill_save, clean_comment

logger = logging.getLogger(__name__)


def billing_email_problem(email: str) -> str:
    """Why an invoice cannot be emailed to this address ("" when it can); bill_send and the
    bulk preview ask it."""
    if not email.strip():
        return "The customer has no billing email; add one before sending."
    try:
        validate_email(email)
    except ValidationError:
        return f"The customer's billing email “{email}” is not a valid address; correct it first."
    return ""


def bill_send(*, bill: Bill | int, user: User, version: int | None = None) -> Bill:
    """Mark an approved bill sent and issue its invoice (the next invoice number, today's issue
    date, the due date from the customer's payment terms, the parties, the line and the PDF,
    frozen), then email it once that has committed.

    A customer without a valid billing email: the bill stays approved, a "send_failed" history
    row says why, and DomainError(kind="conflict") is raised. If the mail fails, a second
    transaction puts the bill back to approved with a "send_failed" row naming the error (the
    invoice keeps its number for the next send) and DomainError(kind="delivery") is raised.
    Both transactions are durable: inside a caller's atomic block the mail could go out for a
    "sent" the caller then rolls back, so that raises RuntimeError instead.
    Also raises DomainError: not_found; forbidden (not Finance); conflict (not approved).
    """
    # The lock is held only while the status changes, never while talking to the mail server.
    with transaction.atomic(durable=True):
        bill = lifecycle.bill_lock(bill=bill)
        require(user, Perm.SEND_BILL, bill)
        lifecycle.check(bill, "send", version=version)
        problem = billing_email_problem(bill.customer.billing_email)
        if problem:
            entry = HistoryEntry(
                stakeholder=user,
                action=Action.SEND_FAILED,
                from_status=Status.APPROVED,
                comment=problem,
            )
            bill_save(bill=bill, entry=entry)
        else:
            bill.status = Status.SENT
            entry = HistoryEntry(stakeholder=user, action=Action.SENT, from_status=Status.APPROVED)
            bill_save(bill=bill, entry=entry)
            invoice = invoice_issue(bill=bill)
    if problem:
        raise DomainError.conflict(f"Bill #{bill.pk} was not sent. {problem}")
    try:
        document_deliver(invoice_message(invoice), invoice)
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
            f"{invoice.bill_to_email} ({reason}). The bill is still approved; "
            "send it again once mail works.",
            kind="delivery",
        ) from exc
    return bill


def bill_void(*, bill: Bill | int, user: User, comment: str, version: int | None = None) -> Bill:
    """Void a sent bill: a credit note (its own number sequence) cancels its invoice in full and
    is emailed to where the invoice went; the customer-month may then be billed again. A comment
    is required and becomes the credit note's reason.

    Raises DomainError: not_found; forbidden (not Finance); conflict (not sent); invalid
    naming "comment"; delivery (the bill is void and the credit note issued, but its email
    failed: a "send_failed" history row says why).
    """
    comment = clean_comment(comment, required_to="void a bill")
    with transaction.atomic(durable=True):
        bill = lifecycle.bill_lock(bill=bill)
        require(user, Perm.VOID_BILL, bill)
        lifecycle.check(bill, "void", version=version)
        bill.status = Status.VOID
        entry = HistoryEntry(
            stakeholder=user, action=Action.VOIDED, from_status=Status.SENT, comment=comment
        )
        bill_save(bill=bill, entry=entry)
        credit_note = credit_note_issue(invoice=bill.invoice, reason=comment)
    try:
        document_deliver(credit_note_message(credit_note), credit_note)
    except Exception as exc:
        logger.exception("Credit note email for bill %s failed", bill.pk)
        reason = f"{type(exc).__name__}: {exc}"[:500]
        with transaction.atomic(durable=True):
            bill = lifecycle.bill_lock(bill=bill)
            entry = HistoryEntry(
                stakeholder=user,
                action=Action.SEND_FAILED,
                from_status=Status.VOID,
                comment=f"Credit note {credit_note.number} could not be emailed: {reason}",
            )
            bill_save(bill=bill, entry=entry)
        raise DomainError(
            f"Bill #{bill.pk} is void and credit note {credit_note.number} was issued, but it "
            f"could not be emailed to {credit_note.bill_to_email} ({reason}).",
            kind="delivery",
        ) from exc
    return bill
