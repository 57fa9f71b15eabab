"""The invoice email and PDF as sending a bill now would make them, before it is sent (SPEC
"Bill lifecycle": sent). Built from the same functions bill_send uses (invoices.invoice_snapshot,
invoice_message, invoice_pdf), on an Invoice that is never saved: a preview takes no number from
the sequence and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from billing_site.core import periods
from bills.invoices import InvoiceView, invoice_message, invoice_pdf, invoice_snapshot
from bills.models import Bill, Invoice
from bills.services.invoicing import billing_email_problem

PREVIEW_MARK = "PREVIEW"
# Stands for the number in the previewed email: the sequence's next number is taken on sending.
NUMBER_ON_SENDING = "[number assigned on sending]"


@dataclass(frozen=True)
class SendSummary:
    """Where and when: the recipient, why it cannot be emailed ("" when it can), the number it
    keeps from an earlier send whose email failed ("" for none yet) and the due date sending
    today gives it. Costs no query on a bill from bills.selectors (customer, invoice joined)."""

    recipient: str
    problem: str
    number: str
    issued_on: date
    due_on: date


@dataclass(frozen=True)
class SendPreview:
    """The summary, the email (from, subject, text) and the invoice as the PDF will show it."""

    summary: SendSummary
    from_email: str
    subject: str
    text: str
    invoice: InvoiceView


def _kept_number(bill: Bill) -> str:
    # A send whose email failed leaves its invoice, and the next send reuses that number.
    try:
        return bill.invoice.number
    except Invoice.DoesNotExist:
        return ""


def send_summary(bill: Bill, *, today: date | None = None) -> SendSummary:
    """Who the invoice would go to and its dates, if the bill were sent `today` (default:
    periods.today(), as invoices.invoice_snapshot dates it)."""
    today = today or periods.today()
    snapshot = invoice_snapshot(bill, number="", issued_on=today)
    return SendSummary(
        recipient=snapshot["bill_to_email"],
        problem=billing_email_problem(snapshot["bill_to_email"]),
        number=_kept_number(bill),
        issued_on=today,
        due_on=snapshot["due_on"],
    )


def send_preview(bill: Bill, *, today: date | None = None) -> SendPreview:
    """The email bill_send would send today, rendered by invoices.invoice_message itself, with
    NUMBER_ON_SENDING for a number not taken yet. Nothing is saved or numbered."""
    summary = send_summary(bill, today=today)
    snapshot = invoice_snapshot(
        bill, number=summary.number or NUMBER_ON_SENDING, issued_on=summary.issued_on
    )
    message = invoice_message(Invoice(bill=bill, pdf=b"", **snapshot))
    return SendPreview(
        summary=summary,
        from_email=message.from_email,
        subject=message.subject,
        text=message.body,
        invoice=InvoiceView(**{**snapshot, "number": summary.number}, mark=PREVIEW_MARK),
    )


def send_preview_pdf(bill: Bill, *, today: date | None = None) -> bytes:
    """The invoice PDF as it would be sent today, marked PREVIEW across the page."""
    summary = send_summary(bill, today=today)
    snapshot = invoice_snapshot(bill, number=summary.number, issued_on=summary.issued_on)
    return invoice_pdf(InvoiceView(**snapshot, mark=PREVIEW_MARK))
