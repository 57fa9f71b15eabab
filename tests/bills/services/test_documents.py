"""What leaves the building is final: invoice numbers from a gap-free sequence at send time,
frozen invoices (parties, dates, line, amount, PDF), credit notes on void, re-billing a void
month in one step, and no send to an address that cannot receive it."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from pypdf import PdfReader

from billing_site.core import periods
from billing_site.core.errors import DomainError
from bills.models import Action, Bill, CreditNote, Invoice, Status
from bills.services import bill_approve, bill_rebill, bill_send, bill_void
from tests.factories import CustomerFactory, make_bill

FAILING_MAILER = {"default": {"BACKEND": "tests.bills.failing_mail.FailingBackend"}}


def _year() -> int:
    return periods.today().year


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _approved(bill_in, **customer):
    return bill_in(Status.APPROVED, customer=CustomerFactory(**customer) if customer else None)


# --- numbers ---------------------------------------------------------------------------------


def test_a_draft_has_no_invoice_number_until_it_is_sent(bill_in, finance):
    bill = _approved(bill_in)
    assert not Invoice.objects.filter(bill=bill).exists()
    bill_send(bill=bill, user=finance)
    assert Invoice.objects.get(bill=bill).number == f"{_year()}-000001"


def test_invoice_numbers_follow_each_other_without_gaps(bill_in, finance):
    bills = [_approved(bill_in) for _ in range(3)]
    for bill in reversed(bills):  # the order of sending, not of creating, numbers them
        bill_send(bill=bill, user=finance)
    numbers = [Invoice.objects.get(bill=b).number for b in reversed(bills)]
    assert numbers == [f"{_year()}-{n:06d}" for n in (1, 2, 3)]


def test_a_refused_send_takes_no_number(bill_in, finance):
    refused = _approved(bill_in, billing_email="")
    with pytest.raises(DomainError):
        bill_send(bill=refused, user=finance)
    sent = bill_send(bill=_approved(bill_in), user=finance)
    assert sent.invoice.number == f"{_year()}-000001"


def test_a_failed_mail_keeps_the_invoice_and_its_number(bill_in, finance, settings, run_tasks):
    bill = _approved(bill_in)
    settings.MAILERS = FAILING_MAILER
    settings.DELIVERY_BACKOFF_SECONDS = 0
    bill_send(bill=bill, user=finance)
    run_tasks()
    invoice = Invoice.objects.get(bill=bill)
    assert (invoice.number, invoice.delivered_at) == (f"{_year()}-000001", None)
    other = bill_send(bill=_approved(bill_in), user=finance)
    assert other.invoice.number == f"{_year()}-000002"
    assert Invoice.objects.count() == 2


# --- the invoice is a document ---------------------------------------------------------------


def test_the_invoice_carries_dates_parties_line_and_currency(bill_in, finance, settings, run_tasks):
    settings.SELLER_NAME = "Orbit APIs Ltd"
    settings.SELLER_ADDRESS = "9 Quay Street\nDublin D02"
    settings.SELLER_CONTACT = "billing@orbit.example"
    customer = CustomerFactory(
        name="Công ty Việt",
        billing_address="12 Nguyễn Huệ\nQuận 1, TP. Hồ Chí Minh",
        billing_email="ap@viet.example",
        payment_terms_days=45,
    )
    bill = bill_in(Status.APPROVED, customer=customer, api_usage=1_234_567)
    bill_send(bill=bill, user=finance)
    invoice = Invoice.objects.get(bill=bill)
    today = periods.today()
    assert invoice.issued_on == today
    assert invoice.due_on == today + timedelta(days=45)
    assert (invoice.bill_to_name, invoice.bill_to_address, invoice.bill_to_email) == (
        "Công ty Việt",
        "12 Nguyễn Huệ\nQuận 1, TP. Hồ Chí Minh",
        "ap@viet.example",
    )
    assert (invoice.amount, invoice.currency) == (Decimal("586.42"), "USD")
    assert bytes(invoice.pdf) == b""  # the worker renders it when it emails it
    run_tasks()
    invoice.refresh_from_db()
    text = " ".join(_pdf_text(bytes(invoice.pdf)).split())
    for expected in (
        invoice.number,
        "Orbit APIs Ltd",
        "9 Quay Street",
        "billing@orbit.example",
        "Công ty Việt",
        "12 Nguyễn Huệ",
        "Quận 1, TP. Hồ Chí Minh",
        "234,567",
        "0.0025",
        "586.42",
        "USD",
        f"{today.day} {today:%B %Y}",
        f"{invoice.due_on.day} {invoice.due_on:%B %Y}",
    ):
        assert expected in text, expected
    run_tasks()
    body = mail.outbox[0].body
    assert "12 Nguyễn Huệ" in body and "USD\xa0586.42" in body and "Orbit APIs Ltd" in body


def test_the_emailed_pdf_is_the_pdf_kept(bill_in, finance, run_tasks):
    bill = bill_send(bill=_approved(bill_in), user=finance)
    run_tasks()
    [(_, attached, _)] = mail.outbox[0].attachments
    assert bytes(Invoice.objects.get(bill=bill).pdf) == attached


def test_a_later_edit_of_the_customer_changes_no_sent_invoice(bill_in, finance, settings):
    customer = CustomerFactory(name="Old Name Ltd", billing_address="1 Old Road")
    bill = bill_send(bill=bill_in(Status.APPROVED, customer=customer), user=finance)
    before = Invoice.objects.get(bill=bill)
    customer.name, customer.billing_address, customer.billing_email = (
        "New Name",
        "2 New Rd",
        "x@y.z",
    )
    customer.payment_terms_days = 5
    customer.save()
    settings.SELLER_NAME = "Renamed Seller"
    after = Invoice.objects.get(bill=bill)
    assert (after.number, after.bill_to_name, after.bill_to_address, after.seller_name) == (
        before.number,
        "Old Name Ltd",
        "1 Old Road",
        before.seller_name,
    )
    assert (after.issued_on, after.due_on, bytes(after.pdf)) == (
        before.issued_on,
        before.due_on,
        bytes(before.pdf),
    )


def test_a_delivered_invoice_cannot_be_changed_or_deleted(bill_in, finance, run_tasks):
    bill = bill_send(bill=_approved(bill_in), user=finance)
    run_tasks()
    invoice = Invoice.objects.get(bill=bill)
    invoice.amount = Decimal("1.00")
    with pytest.raises(PermissionError):
        invoice.save()
    with pytest.raises(PermissionError):
        invoice.delete()


# --- refused sends ---------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["", "not-an-address", "two@@example.com"])
def test_no_valid_billing_email_is_a_409_that_history_records(email, bill_in, finance):
    bill = _approved(bill_in, billing_email=email)
    with pytest.raises(DomainError) as caught:
        bill_send(bill=bill, user=finance)
    assert caught.value.kind == "conflict"
    assert "billing email" in caught.value.message
    bill.refresh_from_db()
    assert bill.status == Status.APPROVED
    last = bill.actions.last()
    assert (last.action, last.from_status, last.to_status) == (
        Action.SEND_FAILED,
        Status.APPROVED,
        Status.APPROVED,
    )
    assert "billing email" in last.comment
    assert mail.outbox == [] and not Invoice.objects.exists()


# --- void: credit notes ----------------------------------------------------------------------


def test_voiding_issues_a_numbered_credit_note_and_emails_it(bill_in, finance, run_tasks):
    bill = bill_send(bill=_approved(bill_in), user=finance)
    run_tasks()
    mail.outbox.clear()
    bill_void(bill=bill, user=finance, comment="Billed to the wrong entity.")
    run_tasks()
    credit_note = CreditNote.objects.get(invoice__bill=bill)
    assert credit_note.number == f"CN-{_year()}-000001"
    assert credit_note.amount == bill.overage_amount
    assert credit_note.reason == "Billed to the wrong entity."
    [message] = mail.outbox
    assert message.to == [bill.invoice.bill_to_email]
    assert credit_note.number in message.subject and bill.invoice.number in message.subject
    [(_, attached, mimetype)] = message.attachments
    assert mimetype == "application/pdf" and attached == bytes(credit_note.pdf)
    text = " ".join(_pdf_text(attached).split())
    for expected in (credit_note.number, bill.invoice.number, "Billed to the wrong entity."):
        assert expected in text
    assert credit_note.delivered_at is not None


def test_credit_notes_have_their_own_sequence(bill_in, finance):
    first = bill_send(bill=_approved(bill_in), user=finance)
    second = bill_send(bill=_approved(bill_in), user=finance)
    bill_void(bill=second, user=finance, comment="Duplicate.")
    bill_void(bill=first, user=finance, comment="Duplicate.")
    assert [c.number for c in CreditNote.objects.order_by("id")] == [
        f"CN-{_year()}-000001",
        f"CN-{_year()}-000002",
    ]
    assert Invoice.objects.get(bill=first).number == f"{_year()}-000001"


def test_a_credit_note_whose_mail_fails_leaves_the_bill_void_and_says_so(
    bill_in, finance, settings, run_tasks
):
    bill = bill_send(bill=_approved(bill_in), user=finance)
    run_tasks()
    settings.MAILERS = FAILING_MAILER
    settings.DELIVERY_BACKOFF_SECONDS = 0
    bill_void(bill=bill, user=finance, comment="Wrong month.")
    run_tasks()
    bill.refresh_from_db()
    assert bill.status == Status.VOID
    credit_note = CreditNote.objects.get(invoice__bill=bill)
    assert credit_note.delivered_at is None
    last = bill.actions.last()
    assert last.action == Action.EMAIL_FAILED and credit_note.number in last.comment


# --- re-bill ---------------------------------------------------------------------------------


def test_a_void_month_is_billed_again_in_one_step_and_the_two_link(bill_in, finance, sales):
    bill = bill_send(bill=_approved(bill_in), user=finance)
    bill_void(bill=bill, user=finance, comment="Wrong price.")
    new = bill_rebill(bill=bill, user=finance)
    bill.refresh_from_db()
    assert (new.status, new.customer_id, new.year, new.month) == (
        Status.DRAFT,
        bill.customer_id,
        bill.year,
        bill.month,
    )
    assert new.replaces == bill and bill.replaced_by == new
    last = bill.actions.last()
    assert (last.action, last.from_status, last.to_status) == (
        Action.REBILLED,
        Status.VOID,
        Status.VOID,
    )
    assert f"#{new.pk}" in last.comment
    with pytest.raises(DomainError) as caught:
        bill_rebill(bill=bill, user=finance)
    assert caught.value.kind == "conflict"
    with pytest.raises(DomainError) as caught:
        bill_rebill(bill=new, user=finance)
    assert caught.value.kind == "conflict"


def test_only_finance_rebills(bill_in, finance, sales):
    bill = bill_send(bill=_approved(bill_in), user=finance)
    bill_void(bill=bill, user=finance, comment="Wrong price.")
    with pytest.raises(DomainError) as caught:
        bill_rebill(bill=bill, user=sales)
    assert caught.value.kind == "forbidden"
    assert not Bill.objects.exclude(pk=bill.pk).exists()


def test_billing_a_void_month_again_through_create_links_the_two(finance, sales, customer):
    bill = make_bill(customer=customer, finance=finance)
    bill = bill_send(bill=bill_approve(bill=bill, user=sales), user=finance)
    bill_void(bill=bill, user=finance, comment="Wrong price.")
    again = make_bill(customer=customer, finance=finance)
    assert again.replaces_id == bill.pk
