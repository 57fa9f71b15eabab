"""The documents that leave the building: the invoice of a bill and the credit note of a void
one, as a page, an email (text + HTML) and a PDF (SPEC "Bill lifecycle": sent, voided).

An issued document (models.Invoice, models.CreditNote) says what was sent and never changes;
a bill that is not sent shows a live preview with no number and a mark (DRAFT, REJECTED). The
PDF of an issued document is stored when it is issued; what was emailed is what is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

from billing_site.core import periods
from billing_site.core.money import format_money, format_unit_cost, with_currency
from bills.models import Bill, CreditNote, Invoice
from bills.pdf import PdfDocument, PdfLine, render_pdf

AMOUNT_NOTE = (
    "Overage calls are the calls above the monthly limit; the amount is overage calls times "
    "the price per call, rounded half-up to the cent."
)


@dataclass(frozen=True)
class InvoiceView:
    """Everything an invoice shows, from its issued record or, unsent, from the bill."""

    number: str  # "" until the bill is sent
    mark: str  # "" for a sent invoice; DRAFT, REJECTED or VOID otherwise
    issued_on: date | None
    due_on: date | None
    seller_name: str
    seller_address: str
    seller_contact: str
    bill_to_name: str
    bill_to_address: str
    bill_to_email: str
    year: int
    month: int
    api_usage: int
    monthly_api_limit: int
    overage_units: int
    overage_unit_cost: Decimal
    amount: Decimal
    currency: str
    credit_note_number: str = ""

    @property
    def period_label(self) -> str:
        return periods.label(self.year, self.month)

    @property
    def amount_text(self) -> str:
        return with_currency(format_money(self.amount), self.currency)

    @property
    def total_label(self) -> str:
        """What the total is: due, or not owed (a void or rejected bill's invoice)."""
        return {"VOID": "Amount (cancelled)", "REJECTED": "Amount (written off)"}.get(
            self.mark, "Amount due"
        )

    @property
    def lines(self) -> list[tuple[str, str]]:
        """The computation as rows (label, value), as the emails show it."""
        return [
            ("API calls used", f"{self.api_usage:,}"),
            ("Monthly API limit", f"{self.monthly_api_limit:,}"),
            ("Overage calls", f"{self.overage_units:,}"),
            (
                "Price per overage call",
                with_currency(format_unit_cost(self.overage_unit_cost), self.currency),
            ),
            ("Amount due", self.amount_text),
        ]

    @property
    def description(self) -> str:
        return (
            f"API calls above the monthly limit, {self.period_label}\n"
            f"{self.api_usage:,} calls used, {self.monthly_api_limit:,} included"
        )

    @property
    def facts(self) -> list[tuple[str, str]]:
        """The label/value pairs under the title (the number is in the title), as the page, the
        email and the PDF show them."""
        facts = []
        if self.issued_on:
            facts.append(("Issue date", _day(self.issued_on)))
        if self.due_on:
            facts.append(("Due date", _day(self.due_on)))
        facts.append(("Period", self.period_label))
        if self.credit_note_number:
            facts.append(("Cancelled by credit note", self.credit_note_number))
        return facts


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _seller() -> dict[str, str]:
    return {
        "seller_name": settings.SELLER_NAME,
        "seller_address": settings.SELLER_ADDRESS,
        "seller_contact": settings.SELLER_CONTACT,
    }


def invoice_snapshot(bill: Bill, *, number: str, issued_on: date) -> dict:
    """The columns of the Invoice issued for `bill` now: the parties as they are today, the
    line and amount as the bill has them, the due date from the customer's payment terms."""
    customer = bill.customer
    return {
        "number": number,
        "issued_on": issued_on,
        "due_on": date.fromordinal(issued_on.toordinal() + customer.payment_terms_days),
        **_seller(),
        "bill_to_name": customer.name,
        "bill_to_address": customer.billing_address,
        "bill_to_email": customer.billing_email,
        "year": bill.year,
        "month": bill.month,
        "api_usage": bill.api_usage,
        "monthly_api_limit": bill.monthly_api_limit,
        "overage_units": bill.overage_units,
        "overage_unit_cost": bill.overage_unit_cost,
        "amount": bill.overage_amount,
        "currency": bill.currency,
    }


def invoice_view(bill: Bill, *, mark: str = "") -> InvoiceView:
    """The bill's invoice: its issued record when it has one that went out (sent, paid or
    void), else a preview from the bill and the customer as they are now, with `mark`."""
    invoice = getattr(bill, "invoice", None) if bill.pk else None
    if invoice is not None and bill.status in ("sent", "paid", "void"):
        credit = getattr(invoice, "credit_note", None)
        return _view_of(invoice, mark=mark, credit_note_number=credit.number if credit else "")
    customer = bill.customer
    return InvoiceView(
        number="",
        mark=mark,
        issued_on=None,
        due_on=None,
        **_seller(),
        bill_to_name=customer.name,
        bill_to_address=customer.billing_address,
        bill_to_email=customer.billing_email,
        year=bill.year,
        month=bill.month,
        api_usage=bill.api_usage,
        monthly_api_limit=bill.monthly_api_limit,
        overage_units=bill.overage_units,
        overage_unit_cost=bill.overage_unit_cost,
        amount=bill.overage_amount,
        currency=bill.currency,
    )


def _view_of(invoice: Invoice, *, mark: str = "", credit_note_number: str = "") -> InvoiceView:
    return InvoiceView(
        number=invoice.number,
        mark=mark,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        seller_name=invoice.seller_name,
        seller_address=invoice.seller_address,
        seller_contact=invoice.seller_contact,
        bill_to_name=invoice.bill_to_name,
        bill_to_address=invoice.bill_to_address,
        bill_to_email=invoice.bill_to_email,
        year=invoice.year,
        month=invoice.month,
        api_usage=invoice.api_usage,
        monthly_api_limit=invoice.monthly_api_limit,
        overage_units=invoice.overage_units,
        overage_unit_cost=invoice.overage_unit_cost,
        amount=invoice.amount,
        currency=invoice.currency,
        credit_note_number=credit_note_number,
    )


def invoice_pdf(view: InvoiceView) -> bytes:
    """The invoice as an A4 PDF (bytes), fonts embedded for any script."""
    return render_pdf(
        PdfDocument(
            title="Invoice",
            number=view.number,
            mark=view.mark,
            seller_name=view.seller_name,
            seller_address=view.seller_address,
            seller_contact=view.seller_contact,
            facts=view.facts,
            bill_to_name=view.bill_to_name,
            bill_to_address=view.bill_to_address,
            bill_to_email=view.bill_to_email,
            currency=view.currency,
            lines=[
                PdfLine(
                    description=view.description,
                    quantity=f"{view.overage_units:,}",
                    unit_price=format_unit_cost(view.overage_unit_cost),
                    amount=format_money(view.amount),
                )
            ],
            total_label=view.total_label,
            total=format_money(view.amount),
            notes=[AMOUNT_NOTE],
        )
    )


def invoice_issued_pdf(invoice: Invoice) -> bytes:
    """The PDF of an issued invoice, rendered from its frozen record (stored as it is sent)."""
    return invoice_pdf(_view_of(invoice))


def invoice_message(invoice: Invoice) -> EmailMultiAlternatives:
    """The invoice email to the billing email frozen on the invoice: text, HTML, and the stored
    PDF attached."""
    view = _view_of(invoice)
    context = {"invoice": view}
    message = EmailMultiAlternatives(
        subject=(
            f"{view.seller_name} invoice {view.number}: API overage for {view.period_label}, "
            f"{view.amount_text}"
        ),
        body=render_to_string("bills/email/invoice.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[view.bill_to_email],
    )
    message.attach_alternative(render_to_string("bills/email/invoice.html", context), "text/html")
    message.attach(f"invoice-{view.number}.pdf", document_pdf(invoice), "application/pdf")
    return message


def credit_note_pdf(credit_note: CreditNote) -> bytes:
    """The credit note as an A4 PDF: its number, the invoice it cancels, the amount credited."""
    invoice = credit_note.invoice
    return render_pdf(
        PdfDocument(
            title="Credit note",
            number=credit_note.number,
            mark="",
            seller_name=credit_note.seller_name,
            seller_address=credit_note.seller_address,
            seller_contact=credit_note.seller_contact,
            facts=[
                ("Credit note number", credit_note.number),
                ("Issue date", _day(credit_note.issued_on)),
                ("Cancels invoice", invoice.number),
                ("Invoice date", _day(invoice.issued_on)),
                ("Period", periods.label(invoice.year, invoice.month)),
            ],
            bill_to_name=credit_note.bill_to_name,
            bill_to_address=credit_note.bill_to_address,
            bill_to_email=credit_note.bill_to_email,
            currency=credit_note.currency,
            lines=[
                PdfLine(
                    description=f"Cancels invoice {invoice.number}\n{credit_note.reason}",
                    quantity="1",
                    unit_price=format_money(credit_note.amount),
                    amount=format_money(credit_note.amount),
                )
            ],
            total_label="Credit",
            total=format_money(credit_note.amount),
            notes=[f"This credit note cancels invoice {invoice.number} in full."],
        )
    )


def credit_note_message(credit_note: CreditNote) -> EmailMultiAlternatives:
    """The credit note email to the invoice's billing email, its stored PDF attached."""
    invoice = credit_note.invoice
    amount = with_currency(format_money(credit_note.amount), credit_note.currency)
    context = {"credit_note": credit_note, "invoice": invoice, "amount": amount}
    message = EmailMultiAlternatives(
        subject=(
            f"{credit_note.seller_name} credit note {credit_note.number}: "
            f"cancels invoice {invoice.number}"
        ),
        body=render_to_string("bills/email/credit_note.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[credit_note.bill_to_email],
    )
    message.attach(
        f"credit-note-{credit_note.number}.pdf", document_pdf(credit_note), "application/pdf"
    )
    return message


def document_pdf(document: Invoice | CreditNote) -> bytes:
    """The PDF of an issued invoice or credit note: the stored bytes, or, the first time it is
    asked for (by the worker about to email it, or by a download before that), rendered from
    the document's frozen record and stored under its row lock, so it is rendered once and
    every later email and download is that PDF, byte for byte (issue 12: the worker renders)."""
    if document.pdf or document.pk is None:  # unsaved: the send preview's, never stored
        return bytes(document.pdf)
    model = type(document)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=document.pk)
        if not locked.pdf:
            render = credit_note_pdf if isinstance(locked, CreditNote) else invoice_issued_pdf
            # update(): an issued document's save() is for its first write only.
            model.objects.filter(pk=locked.pk).update(pdf=render(locked))
            locked.refresh_from_db(fields=["pdf"])
    document.pdf = locked.pdf
    return bytes(locked.pdf)


def invoice_file(bill: Bill, *, mark: str) -> tuple[str, bytes]:
    """(file name, PDF) of the bill's invoice for download. A sent invoice (no mark) is the PDF
    stored when it was emailed, byte for byte; any other is rendered now, with its mark."""
    invoice = getattr(bill, "invoice", None)
    if not mark and invoice is not None:
        return f"invoice-{invoice.number}.pdf", document_pdf(invoice)
    view = invoice_view(bill, mark=mark)
    name = f"invoice-{view.number}" if view.number else f"invoice-draft-bill-{bill.pk}"
    return f"{name}-{mark.lower()}.pdf" if mark else f"{name}.pdf", invoice_pdf(view)
