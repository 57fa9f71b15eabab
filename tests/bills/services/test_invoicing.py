"""Sending a bill emails the invoice (text, HTML and a PDF) through the outbox
(tests/bills/services/test_outbox.py has the retries and failures)."""

import io
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from pypdf import PdfReader

from billing_site.core import periods
from billing_site.core.errors import DomainError
from bills.models import Status
from bills.services import bill_send
from tests.factories import CustomerFactory

# What the invoice must say for 1,234,567 calls against a 1,000,000 limit at 0.0025 per call.
FIGURES = {
    "period": "March 2025",
    "usage": "1,234,567",
    "limit": "1,000,000",
    "overage units": "234,567",
    "unit cost": "0.0025",
    "amount": "586.42",  # 586.4175, half-up to the cent
}


@pytest.fixture
def approved_bill(bill_in):
    customer = CustomerFactory(name="Globex", billing_email="ap@globex.example")
    return bill_in(Status.APPROVED, customer=customer, api_usage=1_234_567)


def _pdf_text(message) -> str:
    [(filename, content, mimetype)] = message.attachments
    assert mimetype == "application/pdf"
    assert filename.endswith(".pdf")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_sending_emails_the_invoice_to_the_billing_address(approved_bill, finance, run_tasks):
    bill = bill_send(bill=approved_bill, user=finance)
    assert bill.status == Status.SENT
    assert mail.outbox == []  # queued: the worker emails it
    assert run_tasks() == 1
    [message] = mail.outbox
    assert message.to == ["ap@globex.example"]
    assert f"invoice {periods.today().year}-000001" in message.subject
    assert "March 2025" in message.subject
    assert "USD\xa0586.42" in message.subject


@pytest.mark.parametrize("figure", FIGURES)
def test_the_text_body_states_the_figure(figure, approved_bill, finance, run_tasks):
    bill_send(bill=approved_bill, user=finance)
    run_tasks()
    assert FIGURES[figure] in mail.outbox[0].body


@pytest.mark.parametrize("figure", FIGURES)
def test_the_html_body_states_the_figure(figure, approved_bill, finance, run_tasks):
    bill_send(bill=approved_bill, user=finance)
    run_tasks()
    [(html, mimetype)] = mail.outbox[0].alternatives
    assert mimetype == "text/html"
    assert FIGURES[figure] in html


def test_the_pdf_states_period_usage_and_amount(approved_bill, finance, run_tasks):
    bill = bill_send(bill=approved_bill, user=finance)
    run_tasks()
    text = _pdf_text(mail.outbox[0])
    assert f"{periods.today().year}-000001" in text
    assert bill.invoice.number == f"{periods.today().year}-000001"
    assert "Globex" in text
    for figure in FIGURES.values():
        assert figure in text


def test_a_name_outside_latin_1_does_not_break_the_pdf(bill_in, finance, run_tasks):
    customer = CustomerFactory(name="Zürich 東京 GmbH")
    bill = bill_in(Status.APPROVED, customer=customer)
    bill_send(bill=bill, user=finance)
    run_tasks()
    assert "Zürich 東京 GmbH" in _pdf_text(mail.outbox[0])
    assert "Zürich 東京 GmbH" in mail.outbox[0].body


def test_a_large_amount_is_written_in_full(bill_in, finance, run_tasks):
    bill = bill_in(
        Status.APPROVED,
        api_usage=5_000_000_000,
        monthly_api_limit=0,
        overage_unit_cost=Decimal("0.75"),
    )
    bill_send(bill=bill, user=finance)
    run_tasks()
    assert "3,750,000,000.00" in mail.outbox[0].body
    assert "3,750,000,000.00" in _pdf_text(mail.outbox[0])


def test_sending_inside_a_callers_transaction_is_refused(approved_bill, finance):
    # What the service reports must be what was committed, which an outer block would undo.
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        bill_send(bill=approved_bill, user=finance)
    approved_bill.refresh_from_db()
    assert approved_bill.status == Status.APPROVED
    assert mail.outbox == []


def test_a_refused_send_sends_no_mail(bill_in, sales, finance, run_tasks):
    draft = bill_in(Status.DRAFT)
    with pytest.raises(DomainError):
        bill_send(bill=draft, user=finance)
    approved = bill_in(Status.APPROVED, customer=CustomerFactory())
    with pytest.raises(DomainError):
        bill_send(bill=approved, user=sales)
    assert run_tasks() == 0
    assert mail.outbox == []
