"""/bills/<id>: the bill, how it was computed, its history and the viewer's buttons."""

import re

import pytest

from bills.models import Status
from bills.services import bill_approve, bill_reject, bill_revert, bill_send, bill_update
from tests.factories import ROLES, htmx, make_bill
from usage.models import Usage

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_welcome(client, bill):
    assert client.get(f"/bills/{bill.pk}")["Location"] == f"/welcome?next=%2Fbills%2F{bill.pk}"


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_bill(page_as, users, role, bill):
    response = page_as(users[role]).get(f"/bills/{bill.pk}")
    assert response.status_code == 200
    assert response.content.decode().startswith("<!doctype html>")


@pytest.mark.parametrize("role", ROLES)
def test_htmx_gets_the_bill_panel(page_as, users, role, bill):
    html = page_as(users[role]).get(f"/bills/{bill.pk}", **htmx("bill")).content.decode()
    assert html.lstrip().startswith('<div id="bill"') and "<html" not in html


def test_it_explains_how_the_amount_was_computed(page_as, sales, customer, finance):
    bill = make_bill(customer=customer, finance=finance, api_usage=1_000_401)
    html = page_as(sales).get(f"/bills/{bill.pk}").content.decode()
    assert "How the amount was computed" in html
    for text in (
        "1,000,401",
        "1,000,000",
        ">401<",
        "0.0025",
        "1.0025",
        "1.00",
        "rounded half-up to cents",
    ):
        assert text in html, text


def test_it_warns_when_usage_changed_since_the_bill_was_computed(page_as, sales, bill):
    html = page_as(sales).get(f"/bills/{bill.pk}").content.decode()
    assert "This bill was computed from older usage: recompute it." not in html
    Usage.objects.filter(customer=bill.customer).update(api_usage=1_700_000)
    html = page_as(sales).get(f"/bills/{bill.pk}").content.decode()
    assert "This bill was computed from older usage: recompute it." in html
    assert "1,700,000" in html


def test_the_history_is_a_timeline_with_who_role_what_when_and_comment(
    page_as, sales, finance, bill
):
    bill_reject(bill=bill, user=sales, comment="Goodwill <b>credit</b>")
    bill_update(bill=bill, user=finance, comment="Repriced", overage_unit_cost="0.002")
    html = page_as(sales).get(f"/bills/{bill.pk}").content.decode()
    events = re.findall(r'<li class="event event-(\w+)">', html)
    assert events == ["created", "rejected", "updated"]
    assert "<strong>sam</strong>" in html and '<span class="role-chip">Sales</span>' in html
    transitions = [
        re.sub(r"<[^>]+>", "", t).split()
        for t in re.findall(r'<p class="transition">(.*?)</p>', html, re.S)
    ]
    assert transitions == [["Draft"], ["Draft", "→", "Rejected"], ["Rejected", "→", "Draft"]]
    assert '<span class="badge badge-sm badge-rejected">Rejected</span>' in html
    assert "Goodwill &lt;b&gt;credit&lt;/b&gt;" in html
    assert "unit cost: USD\xa00.0025 → USD\xa00.002" in html  # money as the page shows it
    assert "amount: USD\xa01,250.00 → USD\xa01,000.00" in html
    assert "<time datetime=" in html


LABELS = ("Approve", "Reject", "Undo", "Recompute", "Reprice", "Send", "Void")
# The viewer's buttons on a bill of `customer` (its CSM is casey, "csm"; "other_csm" manages
# other customers) as it goes draft -> approved -> sent. Written out, never asked of
# accounts.roles.
BUTTONS = {
    "finance": {"draft": {"Recompute", "Reprice"}, "approved": {"Send"}, "sent": {"Void"}},
    "sales": {"draft": {"Approve", "Reject"}, "approved": {"Undo"}, "sent": set()},
    "csm": {"draft": {"Approve", "Reject"}, "approved": {"Undo"}, "sent": set()},
    "other_csm": {"draft": set(), "approved": set(), "sent": set()},
}


def buttons_on(client, bill) -> set[str]:
    html = client.get(f"/bills/{bill.pk}").content.decode()
    return {label for label in LABELS if f">{label}</button>" in html}


@pytest.mark.parametrize("role", ROLES)
def test_buttons_follow_the_viewers_role_through_the_lifecycle(
    page_as, users, role, bill, sales, finance
):
    client = page_as(users[role])
    assert buttons_on(client, bill) == BUTTONS[role]["draft"]
    bill_approve(bill=bill, user=sales)
    assert buttons_on(client, bill) == BUTTONS[role]["approved"]
    bill_send(bill=bill, user=finance)
    assert buttons_on(client, bill) == BUTTONS[role]["sent"]


def test_reject_undo_and_void_ask_for_a_comment(page_as, sales, finance, bill):
    html = page_as(sales).get(f"/bills/{bill.pk}").content.decode()
    assert '<label for="reject-comment">Comment</label>' in html
    bill_reject(bill=bill, user=sales, comment="no")
    html = page_as(sales).get(f"/bills/{bill.pk}").content.decode()
    assert '<label for="revert-comment">Comment</label>' in html
    html = page_as(finance).get(f"/bills/{bill.pk}").content.decode()
    assert '<label for="reprice-cost">New unit cost</label>' in html
    assert '<label for="recompute-comment">Comment</label>' in html


def test_a_customer_name_with_html_is_text(page_as, sales, finance):
    bill = make_bill(finance=finance, name="<script>alert(1)</script>Evil")
    html = page_as(sales).get(f"/bills/{bill.pk}").content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;Evil" in html


def test_unknown_bill_is_a_styled_404(page_as, sales):
    response = page_as(sales).get("/bills/424242")
    assert response.status_code == 404
    html = response.content.decode()
    assert "This page does not exist" in html and "Bill #424242 does not exist." in html
    assert "Log out" in html


def test_bill_page_runs_a_fixed_number_of_queries(
    page_as, sales, csm, bill, django_assert_max_num_queries
):
    for _ in range(10):
        bill_reject(bill=bill, user=sales, comment="no")
        bill_revert(bill=bill, user=csm, comment="yes")
    client = page_as(sales)
    # session, user, the bill with its history, its payments, its emails and the people named
    # on it, the month's usage history (suspicious usage), the navigation's count of the
    # viewer's queue
    with django_assert_max_num_queries(9):
        response = client.get(f"/bills/{bill.pk}")
    assert response.content.decode().count('<li class="event') == 21


def test_bill_page_refuses_post(page_as, sales, bill):
    assert page_as(sales).post(f"/bills/{bill.pk}").status_code == 405


# --- the printable invoice ---------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_can_print_the_invoice(page_as, users, role, bill):
    response = page_as(users[role]).get(f"/bills/{bill.pk}/invoice")
    assert response.status_code == 200
    html = response.content.decode()
    assert "No number yet: an invoice is numbered when it is sent." in html
    assert "Amount due" in html and "USD\xa01,250.00" in html and "Acme Corp" in html
    assert bill.customer.billing_address.splitlines()[0] in html
    assert 'class="invoice-stamp">DRAFT<' in html


def test_invoice_pdf_downloads(page_as, sales, bill):
    response = page_as(sales).get(f"/bills/{bill.pk}/invoice.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f'filename="invoice-draft-bill-{bill.pk}-draft.pdf"' in response["Content-Disposition"]


def test_a_sent_invoice_downloads_as_the_pdf_that_was_emailed(page_as, sales, bill_in, run_tasks):
    from django.core import mail

    bill = bill_in(Status.SENT)
    run_tasks()
    [(_, emailed, _)] = mail.outbox[0].attachments
    response = page_as(sales).get(f"/bills/{bill.pk}/invoice.pdf")
    assert response.content == emailed
    assert f'filename="invoice-{bill.invoice.number}.pdf"' in response["Content-Disposition"]
    html = page_as(sales).get(f"/bills/{bill.pk}/invoice").content.decode()
    assert f"Invoice {bill.invoice.number}" in html and "invoice-stamp" not in html


def test_a_void_invoice_keeps_its_number_and_is_marked_void(page_as, sales, bill_in):
    bill = bill_in(Status.VOID)
    html = page_as(sales).get(f"/bills/{bill.pk}/invoice").content.decode()
    assert f"Invoice {bill.invoice.number}" in html
    assert bill.invoice.credit_note.number in html
    response = page_as(sales).get(f"/bills/{bill.pk}/invoice.pdf")
    assert response.content != bytes(bill.invoice.pdf)  # the kept PDF, stamped VOID now
    assert "-void.pdf" in response["Content-Disposition"]


def test_invoice_of_unknown_bill_is_404(page_as, sales):
    assert page_as(sales).get("/bills/4242/invoice").status_code == 404
    assert page_as(sales).get("/bills/4242/invoice.pdf").status_code == 404


def test_anonymous_cannot_see_invoices(client, bill):
    assert client.get(f"/bills/{bill.pk}/invoice").status_code == 302
    assert client.get(f"/bills/{bill.pk}/invoice.pdf").status_code == 302


# The mark across the printable invoice, by status; "" is no mark (a sent invoice stands).
STAMPS = {
    Status.DRAFT: "DRAFT",
    Status.APPROVED: "DRAFT",
    Status.REJECTED: "REJECTED",
    Status.SENT: "",
    Status.VOID: "VOID",
}


@pytest.mark.parametrize("status", list(STAMPS))
def test_the_printable_invoice_is_stamped_with_what_the_bill_is(status, bill_in, client, sales):
    bill = bill_in(status)
    client.force_login(sales)
    html = client.get(f"/bills/{bill.pk}/invoice").content.decode()
    stamp = html.split('class="invoice-stamp">')[1].split("<")[0] if "invoice-stamp" in html else ""
    assert stamp == STAMPS[status]


def test_a_void_bill_offers_its_credit_note_pdf(page_as, sales, bill_in):
    bill = bill_in(Status.VOID)
    html = page_as(sales).get(f"/bills/{bill.pk}").content.decode()
    assert f'href="/bills/{bill.pk}/credit-note.pdf"' in html
    response = page_as(sales).get(f"/bills/{bill.pk}/credit-note.pdf")
    credit_note = bill.invoice.credit_note
    credit_note.refresh_from_db()  # the download rendered and stored it, once
    assert response.content.startswith(b"%PDF") and response.content == bytes(credit_note.pdf)
    assert page_as(sales).get(f"/bills/{bill.pk}/credit-note.pdf").content == response.content
    assert f'filename="credit-note-{credit_note.number}.pdf"' in response["Content-Disposition"]


def test_a_bill_without_a_credit_note_has_no_credit_note_pdf(page_as, sales, bill_in):
    bill = bill_in(Status.SENT)
    assert page_as(sales).get(f"/bills/{bill.pk}/credit-note.pdf").status_code == 404
    assert page_as(sales).get("/bills/987654/credit-note.pdf").status_code == 404


def test_the_invoice_of_a_void_bill_asks_for_no_payment(page_as, sales, bill_in):
    html = page_as(sales).get(f"/bills/{bill_in(Status.VOID).pk}/invoice").content.decode()
    assert "Please pay" not in html and "Amount (cancelled)" in html
