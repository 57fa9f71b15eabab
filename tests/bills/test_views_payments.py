"""The bill page's Payments: what was received and what is still due, and Finance's "Record
payment" and "Undo payment", in place with htmx or redirect-and-flash without. The bill is Acme
Corp's 2025-03 bill of USD 1,250.00, sent today."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages

from billing_site.core import periods
from bills.models import Payment, Status
from bills.services import payment_record
from tests.factories import htmx

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(bill_in, customer):
    return bill_in(Status.SENT, customer=customer)


def section(html: str) -> str:
    match = re.search(r'<section class="card payments".*?</section>', html, re.S)
    assert match, "no Payments section"
    return match.group(0)


def pay(bill, user, amount, reference="BANK 77"):
    return payment_record(
        bill=bill, user=user, date=periods.today(), amount=amount, reference=reference
    )


def test_finance_sees_the_balance_and_the_form_with_its_defaults(sent, finance, page_as):
    pay(sent, finance, "1000.00")
    html = section(page_as(finance).get(f"/bills/{sent.pk}").content.decode())
    assert "<dt>Balance due</dt>" in html
    assert 'class="balance-due">USD\xa0250.00</strong>' in html
    assert 'name="amount" inputmode="decimal" required autocomplete="off" value="250.00"' in html
    assert f'name="date" required value="{periods.today().isoformat()}"' in html
    assert ">Record payment</button>" in html
    assert '<label for="payment-reference">Reference</label>' in html
    row = re.search(r'<tr id="payment-\d+".*?</tr>', html, re.S).group(0)
    assert "USD\xa01,000.00" in row and "BANK 77" in row and "fiona" in row
    assert ">Undo payment</button>" in row


@pytest.mark.parametrize("who", ["sales", "csm"])
def test_others_see_the_payments_but_no_buttons(sent, finance, users, page_as, who):
    pay(sent, finance, "1000.00")
    html = section(page_as(users[who]).get(f"/bills/{sent.pk}").content.decode())
    assert "BANK 77" in html
    assert "Record payment" not in html and "Undo payment" not in html


def test_a_bill_not_sent_has_no_payments_section(bill_in, customer, finance, page_as):
    bill = bill_in(Status.APPROVED, customer=customer)
    assert 'class="card payments"' not in page_as(finance).get(f"/bills/{bill.pk}").content.decode()


def test_recording_in_place_answers_the_bill_panel_and_refreshes_the_tiles(sent, finance, page_as):
    data = {"date": periods.today().isoformat(), "amount": "1000.00", "reference": "BANK 77"}
    response = page_as(finance).post(f"/bills/{sent.pk}/payments", data, **htmx("bill"))
    assert response.status_code == 200
    assert "billsChanged" in response["HX-Trigger"]
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="bill"')
    assert (
        f'role="status">Bill #{sent.pk}: payment recorded; USD\xa0250.00 is still due.</div>'
        in html
    )
    assert "recorded a payment" in html  # the timeline
    assert Payment.objects.get().amount == 1000


def test_the_last_payment_shows_the_bill_paid(sent, finance, page_as):
    pay(sent, finance, "1000.00")
    data = {"date": periods.today().isoformat(), "amount": "250.00", "reference": "BANK 78"}
    html = page_as(finance).post(f"/bills/{sent.pk}/payments", data, **htmx("bill")).content
    html = html.decode()
    assert f"Bill #{sent.pk}: payment recorded; the bill is paid in full." in html
    assert 'class="badge badge-lg badge-paid">Paid</span>' in html
    assert '<p class="big-amount-label">Paid</p>' in html
    assert "Record payment" not in html


def test_a_bad_amount_keeps_the_form_with_the_error_on_its_field(sent, finance, page_as):
    data = {
        "intent": "record_payment",
        "date": periods.today().isoformat(),
        "amount": "1300",
        "reference": "BANK 77",
    }
    response = page_as(finance).post(f"/bills/{sent.pk}/payments", data, **htmx("bill"))
    assert response.status_code == 400
    html = section(response.content.decode())
    assert (
        '<p class="field-error" id="payment-amount-error">USD\xa01,300.00 is more than the '
        "balance due (USD\xa01,250.00): record at most the balance.</p>"
    ) in html
    assert 'value="1300"' in html and 'value="BANK 77"' in html
    assert Payment.objects.count() == 0


def test_without_htmx_it_redirects_with_a_message(sent, finance, page_as):
    client = page_as(finance)
    data = {
        "date": periods.today().isoformat(),
        "amount": "100.00",
        "reference": "BANK 77",
        "next": f"/bills/{sent.pk}",
    }
    response = client.post(f"/bills/{sent.pk}/payments", data)
    assert (response.status_code, response["Location"]) == (302, f"/bills/{sent.pk}")
    assert [m.message for m in get_messages(response.wsgi_request)] == [
        f"Bill #{sent.pk}: payment recorded; USD\xa01,150.00 is still due."
    ]


def test_sales_posting_a_payment_gets_the_refusal_page(sent, sales, page_as):
    data = {"date": periods.today().isoformat(), "amount": "100.00", "reference": "x"}
    response = page_as(sales).post(f"/bills/{sent.pk}/payments", data)
    assert response.status_code == 403
    assert Payment.objects.count() == 0


def test_anonymous_is_sent_to_welcome(sent, client):
    response = client.post(f"/bills/{sent.pk}/payments", {"amount": "1.00"})
    assert (response.status_code, response["Location"]) == (302, "/welcome")


@pytest.mark.parametrize("url", ["/bills/{pk}/payments", "/bills/{pk}/payments/1/undo"])
def test_the_buttons_refuse_get(sent, finance, page_as, url):
    assert page_as(finance).get(url.format(pk=sent.pk)).status_code == 405


def test_undo_in_place_keeps_the_payment_on_record(sent, finance, page_as):
    payment = pay(sent, finance, "1250.00")
    response = page_as(finance).post(
        f"/bills/{sent.pk}/payments/{payment.pk}/undo",
        {"comment": "Bounced.", "intent": f"undo-payment-{payment.pk}"},
        **htmx("bill"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Bill #{sent.pk}: payment #{payment.pk} undone." in html
    row = re.search(rf'<tr id="payment-{payment.pk}".*?</tr>', html, re.S).group(0)
    assert "<del>USD\xa01,250.00</del>" in row
    assert "<strong>Undone</strong> by fiona" in row and "Bounced." in row
    assert 'class="badge badge-lg badge-sent">Sent</span>' in html


def test_undo_without_a_comment_reopens_its_panel_with_the_error(sent, finance, page_as):
    payment = pay(sent, finance, "100.00")
    intent = f"undo-payment-{payment.pk}"
    response = page_as(finance).post(
        f"/bills/{sent.pk}/payments/{payment.pk}/undo",
        {"comment": "", "intent": intent},
        **htmx("bill"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert '<details class="action-panel" open>' in html
    assert (
        f'<p class="field-error" id="{intent}-comment-error">'
        "A comment is required to undo a payment.</p>"
    ) in html
    assert Payment.objects.get().counts


def test_undo_of_a_payment_of_another_bill_is_not_found(sent, bill_in, finance, page_as):
    payment = pay(sent, finance, "100.00")
    other = bill_in(Status.SENT)
    response = page_as(finance).post(
        f"/bills/{other.pk}/payments/{payment.pk}/undo", {"comment": "x"}
    )
    assert response.status_code == 404


def test_the_timeline_tells_the_payment(sent, finance, page_as):
    payment = pay(sent, finance, "100.00")
    html = page_as(finance).get(f"/bills/{sent.pk}").content.decode()
    today = periods.today()
    assert "recorded a payment" in html
    assert (
        f"<li>Payment #{payment.pk}: USD\xa0100.00 received {today.day} {today:%b %Y}, "
        "reference BANK 77</li>"
    ) in html
    assert "<li>paid: USD\xa00.00 → USD\xa0100.00</li>" in html


def test_a_paid_invoice_is_the_one_that_was_emailed(sent, finance, page_as):
    pay(sent, finance, "1250.00")
    client = page_as(finance)
    invoice = client.get(f"/bills/{sent.pk}/invoice").content.decode()
    assert sent.invoice.number in invoice and "DRAFT" not in invoice
    pdf = client.get(f"/bills/{sent.pk}/invoice.pdf")
    assert bytes(pdf.content) == bytes(type(sent.invoice).objects.get(pk=sent.invoice.pk).pdf)
