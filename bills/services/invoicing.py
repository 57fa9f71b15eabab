"""Finance's invoice actions: send an approved bill (its invoice is numbered, dated and queued
for email) and void a sent one (a credit note cancels its invoice and is queued for email).
SPEC "Bill lifecycle": sent, voided; the email itself is the outbox's (services.outbox)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from accounts.models import User
from accounts.roles import Perm, require
from billing_site.core.errors import DomainError
from bills.models import Action, Bill, Status
from bills.services import lifecycle
from bills.services.documents import credit_note_issue, invoice_issue
from bills.services.history import HistoryEntry, bill_save, clean_comment
from bills.services.outbox import delivery_queue


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
    frozen), and queue its email in the same transaction (services.outbox: the worker delivers
    it, retries, and records the outcome in the history).

    A customer without a valid billing email: the bill stays approved, a "send_failed" history
    row says why, and DomainError(kind="conflict") is raised. Durable (its own transaction,
    RuntimeError inside a caller's atomic block), so what it reports is what was committed.
    Also raises DomainError: not_found; forbidden (not Finance); conflict (not approved).
    """
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
            delivery_queue(bill=bill, user=user, invoice=invoice)
    if problem:
        raise DomainError.conflict(f"Bill #{bill.pk} was not sent. {problem}")
    return bill


def bill_void(*, bill: Bill | int, user: User, comment: str, version: int | None = None) -> Bill:
    """Void a sent bill: a credit note (its own number sequence) cancels its invoice in full and
    its email to where the invoice went is queued in the same transaction (services.outbox);
    the customer-month may then be billed again. A comment is required and becomes the credit
    note's reason.

    Raises DomainError: not_found; forbidden (not Finance); conflict (not sent); invalid
    naming "comment".
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
        delivery_queue(bill=bill, user=user, credit_note=credit_note)
    return bill
