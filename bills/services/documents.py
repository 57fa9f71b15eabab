"""Issuing the documents that leave the building: the next number of a gap-free sequence, the
invoice of a bill being sent and the credit note of a bill being voided (SPEC "Bill lifecycle":
sent, voided). Called inside the transaction that changes the bill's status, so a rolled-back
send or void gives its number back: numbers have no gaps and are never reused.
"""

from __future__ import annotations

from django.utils import timezone

from billing_site.core import periods
from bills.invoices import invoice_snapshot
from bills.models import Bill, CreditNote, DocumentKind, DocumentSequence, Invoice

PREFIXES = {DocumentKind.INVOICE: "", DocumentKind.CREDIT_NOTE: "CN-"}


def document_number_next(*, kind: DocumentKind, year: int) -> str:
    """The next number of `kind` in `year`: "2026-000123" for invoices, "CN-2026-000001" for
    credit notes. Takes the sequence's row lock until the caller's transaction ends."""
    DocumentSequence.objects.bulk_create(
        [DocumentSequence(kind=kind, year=year)], ignore_conflicts=True
    )
    sequence = DocumentSequence.objects.select_for_update().get(kind=kind, year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{PREFIXES[kind]}{year}-{sequence.last:06d}"


def invoice_issue(*, bill: Bill) -> Invoice:
    """The invoice of a bill being sent, dated today: the parties, the line and the amount as
    they are now (its PDF is rendered from them when first emailed or downloaded). A bill keeps
    its number: a bill sent again after an earlier send was undone is issued again under the
    same number."""
    today = periods.today()
    invoice = Invoice.objects.filter(bill=bill).first()
    if invoice is None:
        number = document_number_next(kind=DocumentKind.INVOICE, year=today.year)
        invoice = Invoice(bill=bill, **invoice_snapshot(bill, number=number, issued_on=today))
    else:
        for name, value in invoice_snapshot(bill, number=invoice.number, issued_on=today).items():
            setattr(invoice, name, value)
    invoice.pdf = b""  # rendered by the worker that emails it (invoices.document_pdf)
    invoice.save()
    return invoice


def credit_note_issue(*, invoice: Invoice, reason: str) -> CreditNote:
    """The credit note cancelling `invoice` in full, dated today, with its own number (its PDF
    is rendered when first emailed or downloaded).
    The parties are the invoice's: a credit note goes where the invoice went."""
    today = periods.today()
    number = document_number_next(kind=DocumentKind.CREDIT_NOTE, year=today.year)
    credit_note = CreditNote(
        invoice=invoice,
        number=number,
        issued_on=today,
        seller_name=invoice.seller_name,
        seller_address=invoice.seller_address,
        seller_contact=invoice.seller_contact,
        bill_to_name=invoice.bill_to_name,
        bill_to_address=invoice.bill_to_address,
        bill_to_email=invoice.bill_to_email,
        amount=invoice.amount,
        currency=invoice.currency,
        reason=reason,
        created_at=timezone.now(),
    )
    credit_note.pdf = b""  # rendered by the worker that emails it (invoices.document_pdf)
    credit_note.save()
    return credit_note
