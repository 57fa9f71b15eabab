"""GET /bills/<id>/send and /bills/<id>/send/preview.pdf: the email and invoice as sending now
makes them, for Finance, before anything is numbered or written; the Send button POSTs to the
same address, which sends as it always did."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from pypdf import PdfReader

from billing_site.core import periods
from bills.models import Bill, BillAction, DocumentSequence, Invoice, Status
from bills.services import bill_approve
from tests.factories import MONTH, YEAR, htmx, make_bill
from usage.models import Usage

pytestmark = pytest.mark.django_db

FAILING_MAILER = {"default": {"BACKEND": "tests.bills.failing_mail.FailingBackend"}}


@pytest.fixture
def approved(finance, sales, customer):
    """Acme Corp's bill for 2025-03, approved: USD 1,250.00, payment terms 30 days."""
    bill = make_bill(customer=customer, finance=finance, year=YEAR, month=MONTH)
    return bill_approve(bill=bill, user=sales)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def nothing_written(before: tuple) -> bool:
    return before == written()


def written() -> tuple:
    return (
        BillAction.objects.count(),
        Invoice.objects.count(),
        DocumentSequence.objects.count(),
        len(mail.outbox),
    )


def test_finance_sees_the_recipient_the_email_and_the_pdf_link(page_as, finance, approved):
    before = written()
    due = periods.today() + timedelta(days=30)
    response = page_as(finance).get(f"/bills/{approved.pk}/send?next=/dashboard?status=approved")
    assert response.status_code == 200
    page = text_of(response)
    email = approved.customer.billing_email
    assert f'<dd class="email-to">{email}</dd>' in page
    assert (
        '<dd class="email-subject">API Co. invoice [number assigned on sending]: API overage for '
        "March 2025, USD\u00a01,250.00</dd>"
    ) in page
    assert "Invoice [number assigned on sending] from API Co." in page
    assert (
        f"Please pay USD\u00a01,250.00 by {due.day} {due:%B %Y}. The PDF invoice is attached."
        in page
    )
    assert f'href="/bills/{approved.pk}/send/preview.pdf"' in page
    # The Send button posts to the send view and comes back where the person came from.
    form = re.search(r'<form method="post" action="/bills/\d+/send".*?</form>', page, re.S).group(0)
    assert f'action="/bills/{approved.pk}/send"' in form
    assert "csrfmiddlewaretoken" in form and ">Send</button>" in form
    assert 'name="next" value="/dashboard?status=approved"' in form
    assert nothing_written(before)


def test_a_preview_takes_no_number_from_the_sequence(page_as, finance, approved, run_tasks):
    client = page_as(finance)
    for _ in range(3):
        assert client.get(f"/bills/{approved.pk}/send").status_code == 200
        assert client.get(f"/bills/{approved.pk}/send/preview.pdf").status_code == 200
    assert (Invoice.objects.count(), DocumentSequence.objects.count()) == (0, 0)
    response = client.post(f"/bills/{approved.pk}/send", {"next": "/dashboard"})
    assert (response.status_code, response["Location"]) == (302, "/dashboard")
    assert Bill.objects.get(pk=approved.pk).invoice.number == f"{periods.today().year}-000001"
    run_tasks()
    assert len(mail.outbox) == 1


def test_the_preview_pdf_is_marked_and_dated_and_shown_inline(page_as, finance, approved):
    before = written()
    response = page_as(finance).get(f"/bills/{approved.pk}/send/preview.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'inline; filename="invoice-preview-bill-{approved.pk}.pdf"'
    )
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    due = periods.today() + timedelta(days=30)
    assert "PREVIEW" in text
    assert f"{due.day} {due:%B %Y}" in text
    assert "1,250.00" in text
    assert nothing_written(before)


@pytest.mark.parametrize("role", ["sales", "csm", "other_csm"])
def test_only_finance_may_preview_a_send(page_as, users, approved, role):
    client = page_as(users[role])
    for url in (f"/bills/{approved.pk}/send", f"/bills/{approved.pk}/send/preview.pdf"):
        response = client.get(url)
        assert response.status_code == 403
        assert f"Your role ({users[role].role}) may not send bills." in text_of(response)


def test_anonymous_is_sent_to_welcome(client, approved):
    response = client.get(f"/bills/{approved.pk}/send")
    assert response.status_code == 302 and response["Location"].startswith("/welcome")


def test_an_unknown_bill_is_a_404(page_as, finance):
    assert page_as(finance).get("/bills/987654321/send").status_code == 404
    assert page_as(finance).get("/bills/987654321/send/preview.pdf").status_code == 404


def test_a_bill_that_cannot_be_sent_is_a_409_saying_why(page_as, finance, bill, approved):
    client = page_as(finance)
    response = client.get(f"/bills/{bill.pk}/send")
    assert response.status_code == 409
    assert f"Bill #{bill.pk} is draft; only approved bills can be sent." in text_of(response)
    assert ">Send</button>" not in text_of(response)
    assert client.get(f"/bills/{bill.pk}/send/preview.pdf").status_code == 409
    Usage.objects.filter(customer=approved.customer, year=YEAR, month=MONTH).update(
        api_usage=1_600_000
    )
    response = client.get(f"/bills/{approved.pk}/send")
    assert response.status_code == 409
    assert "recompute first" in text_of(response)


def test_no_billing_email_is_said_before_sending(page_as, finance, approved):
    type(approved.customer).objects.filter(pk=approved.customer_id).update(billing_email="")
    page = text_of(page_as(finance).get(f"/bills/{approved.pk}/send"))
    assert "It cannot be emailed:</strong> The customer has no billing email" in page


def test_the_row_and_the_bill_page_open_the_send_with_where_it_goes(page_as, finance, approved):
    client = page_as(finance)
    email = approved.customer.billing_email
    dashboard = client.get("/dashboard?status=approved").content.decode()
    row = re.search(rf'<tr id="bill-row-{approved.pk}".*?</tr>', dashboard, re.S).group(0)
    assert "<summary" in row and "Send…</summary>" in row
    assert f"Emails the invoice to <strong>{email}</strong>" in row
    assert f'href="/bills/{approved.pk}/send?next=/dashboard%3Fstatus%3Dapproved"' in row
    assert f'hx-post="/bills/{approved.pk}/send" hx-target="#bill-row-{approved.pk}"' in row
    panel = client.get(f"/bills/{approved.pk}").content.decode()
    assert f"Emails the invoice to <strong>{email}</strong>" in panel
    assert f'hx-post="/bills/{approved.pk}/send" hx-target="#bill"' in panel


def test_the_popover_send_still_answers_the_row_in_place(page_as, finance, approved):
    response = page_as(finance).post(
        f"/bills/{approved.pk}/send", **htmx(f"bill-row-{approved.pk}")
    )
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith(f'<tr id="bill-row-{approved.pk}"')
    assert Bill.objects.get(pk=approved.pk).status == Status.SENT
