"""What leaves the building, clicked through: a stale bill cannot be sent until recomputed; the
sent invoice (page, PDF, email) carries its number, dates, address and currency; voiding mails a
credit note; a void month is billed again and the two bills link to each other."""

import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect
from pypdf import PdfReader

from billing_site.core import periods
from bills.models import Bill, Status
from bills.services import bill_approve, bill_send, bill_update, bill_void
from tests.e2e.conftest import eventually
from tests.factories import CustomerFactory, make_bill
from usage.models import Usage

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = ("12 Nguyễn Huệ", "Quận 1, TP. Hồ Chí Minh")
NUMBER = r"\d{4}-\d{6}"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


@pytest.fixture
def saigon(csm):
    return CustomerFactory(
        name="Sài Gòn Trading", csm=csm, billing_address="\n".join(ADDRESS), payment_terms_days=30
    )


def day(d) -> str:
    """How the invoice page and its PDF write a date: "29 November 2026"."""
    return f"{d.day} {d:%B %Y}"


def short_day(d) -> str:
    """How the bill page's Documents write a date: "29 Nov 2026"."""
    return f"{d.day} {d:%b %Y}"


def change_usage(bill: Bill, api_usage: int) -> None:
    row = Usage.objects.get(customer=bill.customer, year=bill.year, month=bill.month)
    row.api_usage = api_usage
    row.save()


def approved_then_stale(customer, finance, sales) -> Bill:
    """Approved at 1,500,000 calls (USD 1,250.00); the month now shows 1,800,000."""
    bill = bill_approve(
        bill=make_bill(customer=customer, finance=finance, api_usage=1_500_000), user=sales
    )
    change_usage(bill, 1_800_000)
    return bill


def sent_bill(customer, finance, sales) -> Bill:
    bill = approved_then_stale(customer, finance, sales)
    bill_update(bill=bill.pk, user=finance, comment="Late usage import.")
    bill_approve(bill=bill.pk, user=sales)
    return bill_send(bill=bill.pk, user=finance)


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def shots(page, shot, name: str) -> None:
    """The current page at desktop width and at 390 px, then back to desktop."""
    shot(f"{name}-desktop")
    page.set_viewport_size(PHONE)
    shot(f"{name}-390")
    page.set_viewport_size(DESKTOP)


def test_finance_cannot_send_a_stale_bill_until_it_is_recomputed(
    page, login, finance, sales, saigon
):
    bill = approved_then_stale(saigon, finance, sales)
    login(finance)
    page.goto(f"/bills/{bill.pk}")
    main = page.locator("#bill")
    expect(main.get_by_role("note")).to_contain_text(
        "This bill was computed from older usage: recompute it."
    )
    expect(main.get_by_role("note")).to_contain_text("now shows 1,800,000 API calls")
    expect(page.locator(".head-side .badge")).to_have_text("Approved")
    expect(main.get_by_role("button", name="Send", exact=True)).to_have_count(0)
    send_url = reverse("bills:send", args=[bill.pk])
    expect(page.locator(f"form[action='{send_url}']")).to_have_count(0)

    page.goto("/dashboard?status=approved")
    row = page.locator(f"#bill-row-{bill.pk}")
    expect(row.get_by_text("usage changed")).to_be_visible()
    expect(row.get_by_role("button", name="Send")).to_have_count(0)
    expect(page.locator(f"form[action='{send_url}']")).to_have_count(0)

    # Forging the post the page does not offer is refused too, and nothing is mailed.
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    forged = page.request.post(
        send_url,
        form={"csrfmiddlewaretoken": token},
        headers={"HX-Request": "true", "HX-Target": "bill"},
    )
    assert forged.status == 409
    assert "recompute first" in forged.text()
    assert mail.outbox == []
    assert Bill.objects.get(pk=bill.pk).status == Status.APPROVED

    page.goto(f"/bills/{bill.pk}")
    page.get_by_text("Recompute…").click()
    form = page.get_by_role("form", name=re.compile("Recompute from current usage"))
    form.get_by_label("Comment").fill("Late usage import for the month.")
    form.get_by_role("button", name="Recompute").click()
    expect(page.get_by_role("status")).to_contain_text("recomputed from current usage")
    expect(page.locator(".head-side .badge")).to_have_text("Draft")
    expect(page.get_by_role("note")).to_have_count(0)
    expect(page.locator(".head-side .big-amount")).to_have_text("USD\u00a02,000.00")
    expect(page.locator(".calc")).to_contain_text("1,800,000")
    expect(page.get_by_role("button", name="Send", exact=True)).to_have_count(0)
    update = page.locator(".timeline .event").last
    expect(update).to_contain_text("updated the bill")
    expect(update).to_contain_text("Approved → Draft")
    expect(update).to_contain_text("Late usage import for the month.")
    expect(update).to_contain_text("Because the usage changed after approval")
    expect(update).to_contain_text("usage: 1,500,000 → 1,800,000")
    expect(update).to_contain_text(re.compile(r"amount: \D*1,?250\.00 → \D*2,?000\.00"))
    expect(update).to_contain_text("1 earlier approval")
    kv = page.locator(".card-actions .kv").first
    expect(kv.locator("dt:has-text('Sales approval') + dd")).to_have_text("–")
    expect(kv.locator("dt:has-text('Still needed') + dd")).to_have_text("1")
    bill.refresh_from_db()
    assert (bill.status, bill.api_usage, bill.overage_amount) == (Status.DRAFT, 1_800_000, 2000)
    assert bill.sales_approved_by is None and bill.csm_approved_by is None


def test_sales_approves_and_finance_sends_the_invoice_to_the_billing_email(
    page, login, finance, sales, saigon, shot
):
    bill = approved_then_stale(saigon, finance, sales)
    bill_update(bill=bill.pk, user=finance, comment="Late usage import.")
    login(sales)
    page.goto(f"/bills/{bill.pk}")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".head-side .badge")).to_have_text("Approved")

    login(finance)
    page.goto(f"/bills/{bill.pk}")
    page.get_by_text("Send…").click()
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(
        f"sent; invoice email to {saigon.billing_email} queued."
    )
    expect(page.locator(".head-side .badge")).to_have_text("Sent")

    today = periods.today()
    due = today + timedelta(days=30)
    invoice = page.locator(".documents dt:has-text('Invoice') + dd")
    expect(invoice).to_have_text(re.compile(rf"^{today.year}-\d{{6}}, issued "))
    expect(invoice).to_contain_text(f"issued {short_day(today)}, due {short_day(due)}")
    number = re.match(NUMBER, invoice.inner_text()).group(0)

    eventually(lambda: len(mail.outbox) == 1)
    page.reload()  # the bill page says where the email stands
    expect(page.locator(".documents [data-delivery]")).to_have_attribute(
        "data-delivery", "delivered"
    )
    email = mail.outbox[0]
    assert email.to == [saigon.billing_email]
    assert number in email.subject and "USD\u00a02,000.00" in email.subject
    (name, content, mimetype), *more = email.attachments
    assert more == []
    assert (name, mimetype) == (f"invoice-{number}.pdf", "application/pdf")
    assert number in pdf_text(content)
    shots(page, shot, "invoice-bill-sent")


def test_the_printable_invoice_and_its_pdf_show_number_dates_address_and_currency(
    page, login, finance, sales, saigon, shot
):
    bill = sent_bill(saigon, finance, sales)
    eventually(lambda: len(mail.outbox) == 1)
    emailed = mail.outbox[0].attachments[0][1]
    today = periods.today()
    due = today + timedelta(days=30)
    login(finance)
    page.goto(f"/bills/{bill.pk}")
    page.get_by_role("link", name="Printable invoice").click()
    expect(page).to_have_url(re.compile(rf"/bills/{bill.pk}/invoice$"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(rf"^Invoice {today.year}-\d{{6}}$"))
    number = heading.inner_text().removeprefix("Invoice ")
    meta = page.locator(".invoice-meta")
    expect(meta.locator("dt:has-text('Issue date') + dd")).to_have_text(day(today))
    expect(meta.locator("dt:has-text('Due date') + dd")).to_have_text(day(due))
    bill_to = page.locator(".invoice-to")
    for line in ADDRESS:
        expect(bill_to).to_contain_text(line)
    expect(page.locator(".invoice-lines thead")).to_contain_text("Amount (USD)")
    expect(page.locator(".invoice-lines .total")).to_have_text("USD\u00a02,000.00")
    expect(page.locator(".invoice-stamp")).to_have_count(0)
    shots(page, shot, "invoice-printable-sent")

    # The link opens the PDF inline (Chromium's viewer, no download event): fetch what it points at.
    href = page.get_by_role("link", name="Download PDF").get_attribute("href")
    assert href == reverse("bills:invoice_pdf", args=[bill.pk])
    response = page.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert f'filename="invoice-{number}.pdf"' in response.headers["content-disposition"]
    data = response.body()
    text = pdf_text(data)
    for expected in (number, day(today), day(due), *ADDRESS, "USD"):
        assert expected in text, f"{expected!r} is not in the PDF: {text!r}"
    assert data == emailed


def test_finance_voids_a_sent_bill_and_a_credit_note_is_mailed(
    page, login, finance, sales, saigon, shot
):
    bill = sent_bill(saigon, finance, sales)
    number = bill.invoice.number
    login(finance)
    page.goto(f"/bills/{bill.pk}")
    page.get_by_text("Void…").click()
    form = page.get_by_role("form", name=re.compile("Void the sent bill"))
    form.get_by_label("Comment").fill("Billed the wrong entity.")
    form.get_by_role("button", name="Void").click()
    expect(page.locator(".head-side .badge")).to_have_text("Void")
    status = page.get_by_role("status")
    expect(status).to_contain_text(re.compile(rf"credit note CN-{NUMBER} cancels invoice {number}"))
    credit = page.locator(".documents dt:has-text('Credit note') + dd")
    expect(credit).to_have_text(re.compile(rf"^CN-{periods.today().year}-\d{{6}}, issued "))
    cn_number = re.match(rf"CN-{NUMBER}", credit.inner_text()).group(0)
    expect(page.locator(".documents dt:has-text('Invoice') + dd")).to_contain_text(number)
    shots(page, shot, "invoice-bill-void")

    eventually(lambda: len(mail.outbox) == 2)
    email = mail.outbox[1]
    assert email.to == [saigon.billing_email]
    assert cn_number in email.subject and number in email.subject
    (name, content, mimetype), *more = email.attachments
    assert more == []
    assert (name, mimetype) == (f"credit-note-{cn_number}.pdf", "application/pdf")
    text = pdf_text(content)
    assert cn_number in text and number in text and ADDRESS[0] in text

    page.get_by_role("link", name="Printable invoice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {number}")
    expect(page.locator(".invoice-stamp")).to_have_text("VOID")
    cancelled = page.locator(".invoice-meta dt:has-text('Cancelled by credit note') + dd")
    expect(cancelled).to_have_text(cn_number)
    shots(page, shot, "invoice-printable-void")


def test_finance_bills_a_void_month_again_and_the_two_bills_link_to_each_other(
    page, login, finance, sales, saigon
):
    void = bill_void(
        bill=sent_bill(saigon, finance, sales).pk, user=finance, comment="Wrong entity."
    )
    login(finance)
    page.goto(f"/bills/{void.pk}")
    page.get_by_role("button", name="Re-bill").click()
    expect(page.get_by_role("status")).to_contain_text(
        re.compile(rf"Bill #{void.pk} billed again as bill #\d+\.")
    )
    new = Bill.objects.get(replaces=void)
    expect(page.get_by_role("status")).to_contain_text(f"billed again as bill #{new.pk}.")
    expect(page.locator(".head-side .badge")).to_have_text("Void")
    expect(page.get_by_role("button", name="Re-bill")).to_have_count(0)
    again = page.locator(".documents dt:has-text('Billed again as') + dd")
    again.get_by_role("link", name=f"Bill #{new.pk}").click()

    expect(page).to_have_url(re.compile(rf"/bills/{new.pk}$"))
    expect(page.locator(".head-side .badge")).to_have_text("Draft")
    label = periods.label(void.year, void.month)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{saigon.name} {label}")
    replaces = page.locator(".documents dt:has-text('Replaces') + dd")
    expect(replaces.get_by_role("link", name=f"Bill #{void.pk}")).to_have_attribute(
        "href", f"/bills/{void.pk}"
    )
    expect(page.locator(".calc")).to_contain_text("1,800,000")
    assert (new.customer_id, new.year, new.month, new.status) == (
        saigon.pk,
        void.year,
        void.month,
        Status.DRAFT,
    )
