"""The bill flows people click through: generate, approve, reject, undo, send, void."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from billing_site.core import periods
from bills.models import Bill, Status
from bills.services import bill_approve, bill_send
from tests.e2e.conftest import eventually
from tests.factories import CustomerFactory, UsageFactory, make_bill

pytestmark = pytest.mark.django_db(transaction=True)


def mark_page(page):
    """A value that only survives if the page is never reloaded."""
    page.evaluate("window.marker = 'still here'")


def page_was_not_reloaded(page) -> bool:
    return page.evaluate("window.marker") == "still here"


def test_finance_generates_a_month_and_sees_progress_and_a_summary(page, login, finance, csm, shot):
    year, month = periods.last_ended_month()
    for i, usage in enumerate((1_500_000, 2_250_000, 4_000_000, 900_000)):
        customer = CustomerFactory(name=f"Customer {i}", csm=csm)
        UsageFactory(customer=customer, year=year, month=month, api_usage=usage)
    login(finance)
    page.goto("/dashboard")
    expect(page.get_by_text("Bills appear here once Finance generates a month.")).to_be_visible()
    mark_page(page)
    # Record whether the progress indicator was ever shown while the request ran.
    page.evaluate(
        """() => {
            window.sawProgress = false;
            const progress = document.getElementById('generate-progress');
            new MutationObserver(() => {
                if (progress.classList.contains('htmx-request')) window.sawProgress = true;
            }).observe(progress, {attributes: true});
        }"""
    )
    panel = page.get_by_role("form", name="Generate bills")
    panel.get_by_label("Year").fill(str(year))
    panel.get_by_label("Month").select_option(str(month))
    panel.get_by_role("button", name="Generate bills").click()

    # The worker runs it; the panel follows its job until the summary is in.
    summary = page.locator("#generate-job[data-job-status=succeeded]")
    expect(summary).to_contain_text(
        f"{periods.label(year, month)}: created 3 bills, skipped 1.", timeout=15_000
    )
    expect(summary).to_contain_text("1 no overage")
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(3)
    expect(page.locator("#status-counts .tab-draft .tab-count")).to_have_text("3")
    assert page.evaluate("window.sawProgress") is True
    assert page_was_not_reloaded(page)
    assert Bill.objects.count() == 3
    shot("dashboard-finance-generated")


def test_sales_approves_a_row_in_place(page, login, sales, finance, customer, shot):
    bill = make_bill(customer=customer, finance=finance)
    other = make_bill(finance=finance, name="Other Co")
    login(sales)
    page.goto("/dashboard?awaiting=")  # every bill, not the queue
    mark_page(page)
    row = page.locator(f"#bill-row-{bill.pk}")
    row.get_by_role("button", name="Approve").click()
    expect(row.locator(".badge")).to_have_text("Approved")
    expect(row.get_by_role("status")).to_contain_text("approval recorded")
    expect(page.locator("#status-counts .tab-approved .tab-count")).to_have_text("1")
    expect(page.locator(f"#bill-row-{other.pk} .badge")).to_have_text("Draft")
    assert page_was_not_reloaded(page)
    assert Bill.objects.get(pk=bill.pk).status == Status.APPROVED
    shot("dashboard-sales-approved")


def test_csm_rejects_with_a_comment_and_the_bill_page_shows_the_history(
    page, login, csm, finance, customer, shot
):
    bill = make_bill(customer=customer, finance=finance)
    login(csm)
    page.goto("/dashboard")
    mark_page(page)
    row = page.locator(f"#bill-row-{bill.pk}")
    row.get_by_text("Reject…").click()
    row.get_by_label("Comment").fill("Outage on our side; writing it off.")
    shot("dashboard-csm-rejecting", full_page=False)
    row.get_by_role("button", name="Reject", exact=True).click()
    expect(row.locator(".badge")).to_have_text("Rejected")
    assert page_was_not_reloaded(page)

    row.get_by_role("link", name=re.compile(f"Bill #{bill.pk}")).click()
    expect(page).to_have_url(re.compile(rf"/bills/{bill.pk}$"))
    events = page.locator(".timeline .event")
    expect(events).to_have_count(2)
    rejected = events.nth(1)
    expect(rejected).to_contain_text("casey")
    expect(rejected).to_contain_text("Customer Success")
    expect(rejected).to_contain_text("rejected")
    expect(rejected).to_contain_text("Draft → Rejected")
    expect(rejected).to_contain_text("Outage on our side; writing it off.")
    expect(events.nth(0)).to_contain_text("fiona")
    shot("bill-rejected")


def test_undo_on_the_bill_page_asks_for_a_comment_and_updates_in_place(
    page, login, sales, finance, customer
):
    bill = bill_approve(bill=make_bill(customer=customer, finance=finance), user=sales)
    login(sales)
    page.goto(f"/bills/{bill.pk}")
    mark_page(page)
    page.get_by_text("Undo…").click()
    form = page.get_by_role("form", name=re.compile("Undo the latest decision"))
    form.get_by_label("Comment").fill("Approved the wrong month.")
    form.get_by_role("button", name="Undo").click()
    expect(page.locator(".head-side .badge")).to_have_text("Draft")
    expect(page.get_by_role("status")).to_contain_text("decision undone")
    expect(page.locator(".timeline .event").last).to_contain_text("Approved the wrong month.")
    assert page_was_not_reloaded(page)


def test_finance_sends_an_approved_bill_and_the_invoice_is_mailed(
    page, login, sales, finance, customer, shot
):
    bill = bill_approve(bill=make_bill(customer=customer, finance=finance), user=sales)
    login(finance)
    page.goto("/dashboard?status=approved")
    mark_page(page)
    row = page.locator(f"#bill-row-{bill.pk}")
    # Send opens where the invoice goes first; its Send button sends in place.
    row.get_by_text("Send…").click()
    expect(row.locator(".send-to")).to_contain_text(
        f"Emails the invoice to {customer.billing_email}"
    )
    row.get_by_role("button", name="Send", exact=True).click()
    expect(row.locator(".badge")).to_have_text("Sent")
    expect(row.get_by_role("status")).to_contain_text(
        f"sent; invoice email to {customer.billing_email} queued."
    )
    assert page_was_not_reloaded(page)
    eventually(lambda: len(mail.outbox) == 1)
    assert mail.outbox[0].to == [customer.billing_email]
    assert re.search(r"invoice \d{4}-\d{6}:", mail.outbox[0].subject)

    page.goto(f"/bills/{bill.pk}/invoice")
    expect(page.get_by_role("heading", name="Invoice")).to_be_visible()
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    shot("invoice")


def test_finance_voids_a_sent_bill_from_its_page(page, login, sales, finance, customer, shot):
    bill = bill_send(
        bill=bill_approve(bill=make_bill(customer=customer, finance=finance), user=sales),
        user=finance,
    )
    login(finance)
    page.goto(f"/bills/{bill.pk}")
    page.get_by_text("Void…").click()
    form = page.get_by_role("form", name=re.compile("Void the sent bill"))
    form.get_by_label("Comment").fill("Billed the wrong customer.")
    form.get_by_role("button", name="Void").click()
    expect(page.locator(".head-side .badge")).to_have_text("Void")
    assert Bill.objects.get(pk=bill.pk).status == Status.VOID
    shot("bill-voided")


def test_a_conflict_shows_a_message_and_refreshes_the_row(
    page, login, sales, csm, finance, customer, console_problems
):
    bill = make_bill(customer=customer, finance=finance)
    login(csm)
    page.goto("/dashboard")
    bill_approve(bill=bill, user=sales)  # someone else decides first
    row = page.locator(f"#bill-row-{bill.pk}")
    row.get_by_role("button", name="Approve").click()
    # The row was drawn at version 1: the button sends it, and the bill is at version 2 now.
    expect(row.get_by_role("alert")).to_contain_text(
        f"Bill #{bill.pk} changed since you looked at it (now: approved): reload and decide again."
    )
    expect(row.locator(".badge")).to_have_text("Approved")
    expect(row.get_by_role("button", name="Approve")).to_have_count(0)
    # The browser logs every 4xx response; this one is the point of the test.
    console_problems[:] = [p for p in console_problems if "status of 409" not in p]


def test_filters_and_pages_update_in_place_and_keep_a_shareable_url(page, login, sales, finance):
    year, month = periods.last_ended_month()
    for i in range(30):
        make_bill(finance=finance, name=f"Bulk {i:02d}")
    bill_approve(bill=Bill.objects.get(customer__name="Bulk 07"), user=sales)
    login(sales)
    page.goto("/dashboard?awaiting=")  # every bill, not the queue
    mark_page(page)
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(25)

    page.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(5)

    page.get_by_label("Status", exact=True).select_option("approved")
    expect(page).to_have_url(re.compile(r"status=approved"))
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(1)

    page.get_by_label("Status", exact=True).select_option("")
    page.get_by_label("Customer", exact=True).fill("bulk 1")
    expect(page).to_have_url(re.compile(r"customer=bulk(%20|\+)1"))
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(10)
    assert page_was_not_reloaded(page)

    shared = page.url
    page.goto(shared)
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(10)
    expect(page.get_by_label("Customer", exact=True)).to_have_value("bulk 1")
