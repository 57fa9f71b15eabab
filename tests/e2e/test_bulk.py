"""Bulk actions and the send preview, clicked through: Sales approves five drafts at once after
a confirmation; Finance looks at an invoice email before sending it, and sends every approved
bill matching the filters; without JavaScript the same forms still work."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from playwright.sync_api import expect

from bills.models import Bill, Invoice, Status
from bills.services import bill_approve
from tests.e2e.conftest import eventually
from tests.factories import MONTH, YEAR, CustomerFactory, make_bill

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


def drafts(finance, n: int, **fields) -> list[Bill]:
    """n drafts for YEAR-MONTH, "Northwind 1".. : USD 1,250.00 each."""
    return [
        make_bill(
            customer=CustomerFactory(name=f"Northwind {i}", **fields),
            finance=finance,
            year=YEAR,
            month=MONTH,
        )
        for i in range(1, n + 1)
    ]


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_sales_selects_five_drafts_and_approves_them_after_a_confirmation(
    page, login, finance, sales, shot
):
    bills = drafts(finance, 6)
    login(sales)
    page.goto("/dashboard?status=draft&sort=customer")
    bar = page.get_by_role("form", name="Bulk actions")
    expect(bar.locator("[data-bulk-count]")).to_have_text("Tick bills to act on several at once.")
    for bill in bills[:5]:
        page.get_by_label(re.compile(rf"^Select bill #{bill.pk}, Northwind")).check()
    expect(bar.locator("[data-bulk-count]")).to_have_text("5 selected")
    header = page.get_by_label("Select every bill on this page")
    assert header.evaluate("el => el.indeterminate") is True
    shot("bulk-selected")
    bar.get_by_role("button", name="Approve…").click()

    expect(page).to_have_url(re.compile(r"/bills/bulk/approve\?"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Approve 5 bills?")
    expect(page.locator(".bulk-totals")).to_contain_text("USD\u00a06,250.00")
    expect(page.locator(".bulk-skipped")).to_have_count(0)
    page.set_viewport_size(PHONE)
    assert fits_the_width(page)
    shot("bulk-confirm-390")
    page.set_viewport_size(DESKTOP)
    page.get_by_label(re.compile("^Comment")).fill("Checked against the contracts.")
    page.get_by_role("button", name="Approve 5 bills").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Approve: done")
    expect(page.locator(".lede")).to_have_text("5 approved, 0 skipped, 0 failed.")
    expect(page.locator(".outcome-tag-approved")).to_have_count(5)
    shot("bulk-result")
    page.get_by_role("link", name="Back to the dashboard").click()
    expect(page).to_have_url(re.compile(r"/dashboard\?status=draft&sort=customer$"))
    expect(page.locator("tbody tr")).to_have_count(1)
    statuses = [Bill.objects.get(pk=b.pk).status for b in bills]
    assert statuses == [Status.APPROVED] * 5 + [Status.DRAFT]


def test_select_all_on_the_page_ticks_every_row(page, login, finance, sales):
    drafts(finance, 3)
    login(sales)
    page.goto("/dashboard?status=draft")
    page.get_by_label("Select every bill on this page").check()
    expect(page.locator("[data-bulk-count]")).to_have_text("3 selected")
    expect(page.locator("[data-bulk-item]:checked")).to_have_count(3)


def test_finance_previews_the_invoice_email_and_sends_it(page, login, finance, sales, shot):
    customer = CustomerFactory(name="Contoso", billing_email="ap@contoso.example")
    bill = bill_approve(
        bill=make_bill(customer=customer, finance=finance, year=YEAR, month=MONTH), user=sales
    )
    login(finance)
    page.goto("/dashboard?status=approved")
    row = page.locator(f"#bill-row-{bill.pk}")
    row.get_by_text("Send…").click()
    row.get_by_role("link", name=re.compile("See the email and the PDF")).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Send the invoice")
    expect(page.locator(".email-to")).to_have_text("ap@contoso.example")
    expect(page.locator(".email-subject")).to_have_text(
        "API Co. invoice [number assigned on sending]: API overage for March 2025, "
        "USD\u00a01,250.00"
    )
    text = page.get_by_label("Email text")
    expect(text).to_contain_text("Please pay USD\u00a01,250.00 by")
    expect(text).to_contain_text("Bill to:\nContoso")
    pdf = page.get_by_role("link", name="The invoice PDF (preview)")
    expect(pdf).to_have_attribute("href", f"/bills/{bill.pk}/send/preview.pdf")
    assert mail.outbox == [] and not Invoice.objects.filter(bill=bill).exists()
    page.set_viewport_size(PHONE)
    assert fits_the_width(page)
    shot("send-preview-390")
    page.set_viewport_size(DESKTOP)
    shot("send-preview")

    page.get_by_role("button", name="Send", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dashboard\?status=approved$"))
    expect(page.get_by_role("status").first).to_contain_text(
        "sent; invoice email to ap@contoso.example queued."
    )
    eventually(lambda: len(mail.outbox) == 1)
    assert [m.to for m in mail.outbox] == [["ap@contoso.example"]]
    assert Bill.objects.get(pk=bill.pk).status == Status.SENT


def test_finance_sends_every_approved_bill_matching_the_filters(page, login, finance, sales, shot):
    approved = [bill_approve(bill=b, user=sales) for b in drafts(finance, 3)]
    still_draft = make_bill(finance=finance, year=YEAR, month=MONTH)
    login(finance)
    page.goto("/dashboard?status=approved")
    bar = page.get_by_role("form", name="Bulk actions")
    bar.get_by_label("Select all 3 bills matching the filters").check()
    expect(bar.locator("[data-bulk-count]")).to_have_text(
        "All bills matching the filters are selected."
    )
    expect(bar.get_by_role("button", name="Approve…")).to_have_count(0)
    bar.get_by_role("button", name="Send…").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Send 3 bills?")
    expect(page.locator(".bulk-totals")).to_contain_text("USD\u00a03,750.00")
    for bill in approved:
        expect(page.locator(".bulk-summary")).to_contain_text(
            f"Will be emailed to {bill.customer.billing_email}."
        )
    page.get_by_role("button", name="Send 3 bills").click()

    # The worker sends them; the page follows the job until each bill's outcome is in.
    expect(page.get_by_role("heading", level=1)).to_have_text("Send: done", timeout=15_000)
    expect(page.locator(".outcome-tag-sent")).to_have_count(3)
    shot("bulk-send-result")
    eventually(lambda: len(mail.outbox) == 3)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        b.customer.billing_email for b in approved
    )
    assert Bill.objects.get(pk=still_draft.pk).status == Status.DRAFT


def test_without_javascript_the_bulk_forms_still_work(browser, live_server, finance, sales):
    bills = drafts(finance, 2)
    client = Client()
    client.force_login(sales)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto("/dashboard?status=draft")
    expect(page.get_by_label("Select every bill on this page")).to_be_hidden()
    for bill in bills:
        page.get_by_label(re.compile(rf"^Select bill #{bill.pk},")).check()
    page.get_by_role("form", name="Bulk actions").get_by_role("button", name="Reject…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reject 2 bills?")
    page.get_by_label(re.compile("^Comment")).fill("Outage month: waived.")
    page.get_by_role("button", name="Reject 2 bills").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reject: done")
    assert [Bill.objects.get(pk=b.pk).status for b in bills] == [Status.REJECTED] * 2
    context.close()
