"""The invoice: its numbers, its email (text + HTML) and its PDF (fpdf2, pure Python)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from fpdf import FPDF

from billing_site.core import periods
from billing_site.core.money import format_money, format_unit_cost
from bills.models import Bill


@dataclass(frozen=True)
class Invoice:
    number: str
    company: str
    customer_name: str
    billing_email: str
    period_label: str
    api_usage: int
    monthly_api_limit: int
    overage_units: int
    overage_unit_cost: Decimal
    overage_amount: Decimal

    @property
    def amount_text(self) -> str:
        return format_money(self.overage_amount)

    @property
    def lines(self) -> list[tuple[str, str]]:
        """The invoice's rows as shown in the text mail, the HTML mail and the PDF alike."""
        return [
            ("API calls used", f"{self.api_usage:,}"),
            ("Monthly API limit", f"{self.monthly_api_limit:,}"),
            ("Overage calls", f"{self.overage_units:,}"),
            ("Price per overage call", format_unit_cost(self.overage_unit_cost)),
            ("Amount due", self.amount_text),
        ]


def invoice_for(bill: Bill) -> Invoice:
    """The invoice document of a bill: its number, the parties, the period and the line."""
    return Invoice(
        number=f"INV-{bill.year}{bill.month:02d}-{bill.pk:06d}",
        company=settings.BILLING_COMPANY_NAME,
        customer_name=bill.customer.name,
        billing_email=bill.customer.billing_email,
        period_label=periods.label(bill.year, bill.month),
        api_usage=bill.api_usage,
        monthly_api_limit=bill.monthly_api_limit,
        overage_units=bill.overage_units,
        overage_unit_cost=bill.overage_unit_cost,
        overage_amount=bill.overage_amount,
    )


def _latin1(text: str) -> str:
    # The PDF core fonts speak Latin-1; anything else is shown as "?" rather than failing a send.
    return text.encode("latin-1", "replace").decode("latin-1")


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as an A4 PDF (bytes)."""
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(f"Invoice {invoice.number}"))
    pdf.set_author(_latin1(invoice.company))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, _latin1(invoice.company), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(0, 7, _latin1(f"Invoice {invoice.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, _latin1(f"Bill to: {invoice.customer_name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, _latin1(f"Period: {invoice.period_label}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    for label, value in invoice.lines:
        bold = label == "Amount due"
        pdf.set_font("Helvetica", "B" if bold else "", 11)
        pdf.cell(90, 8, label, border="B")
        pdf.cell(0, 8, value, border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(
        0,
        5,
        "Overage calls are the calls above the monthly limit; the amount is overage calls times "
        "the price per call, rounded half-up to the cent.",
    )
    return bytes(pdf.output())


def invoice_message(bill: Bill) -> EmailMultiAlternatives:
    """The invoice email to the customer's billing email: text, HTML and the PDF attached."""
    invoice = invoice_for(bill)
    context = {"invoice": invoice}
    message = EmailMultiAlternatives(
        subject=(
            f"{invoice.company} invoice {invoice.number}: API overage for {invoice.period_label}"
        ),
        body=render_to_string("bills/email/invoice.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invoice.billing_email],
    )
    message.attach_alternative(render_to_string("bills/email/invoice.html", context), "text/html")
    message.attach(f"{invoice.number}.pdf", invoice_pdf(invoice), "application/pdf")
    return message


def invoice_deliver(*, bill: Bill) -> None:
    """Send through Django's mail framework; raises whatever the backend raises."""
    invoice_message(bill).send(fail_silently=False)
