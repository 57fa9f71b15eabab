"""Every failure of a button is shown in the page's message area, and never as an error page
inside the row: a session ended in another tab, an expired form, a refused connection, a crash
(issue 15, "Every failure is shown")."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from bills.models import Bill, Status
from bills.services import bill_approve
from tests.factories import make_bill

pytestmark = pytest.mark.django_db(transaction=True)

FAILED = "Something went wrong; nothing was changed. Try again."
ERROR_PAGE = (
    "<!doctype html><html><body><header>Billing desk</header><h1>Server Error</h1></body></html>"
)


@pytest.fixture
def draft(finance, customer):
    return make_bill(customer=customer, finance=finance)


def _open_dashboard(page, login, user, bill):
    login(user)
    page.goto("/dashboard?awaiting=")
    row = page.locator(f"#bill-row-{bill.pk}")
    expect(row.get_by_role("button", name="Approve")).to_be_visible()
    return row


def _expect_row_unchanged(page, row, bill):
    expect(row.locator(".badge")).to_have_text("Draft")
    expect(row.get_by_role("button", name="Approve")).to_be_enabled()
    expect(page.locator("header.topbar")).to_have_count(1)
    expect(page.locator("footer")).to_have_count(1)
    assert Bill.objects.get(pk=bill.pk).status == Status.DRAFT


def _forget(console_problems, *needles):
    """The browser (and htmx) log each failed request; these ones are the point of the test."""
    console_problems[:] = [p for p in console_problems if not any(n in p for n in needles)]


def test_a_session_ended_in_another_tab_offers_to_log_in_and_come_back(
    page, login, sales, draft, console_problems
):
    row = _open_dashboard(page, login, sales, draft)
    other = page.context.new_page()
    other.goto("/dashboard?awaiting=")
    other.get_by_role("button", name="Log out").click()
    expect(other).to_have_url(re.compile("/welcome"))
    other.close()

    for _ in range(2):  # a second click replaces the message, it does not stack another
        row.get_by_role("button", name="Approve").click()
        alert = page.locator("#messages [role=alert]")
        expect(alert).to_have_count(1)
        expect(alert).to_contain_text("Your session has ended")
    expect(alert.get_by_role("link", name="Log in")).to_have_attribute(
        "href", "/welcome?next=%2Fdashboard%3Fawaiting%3D"
    )
    _expect_row_unchanged(page, row, draft)
    _forget(console_problems, "401")


def test_an_expired_form_offers_a_reload_that_makes_the_button_work(
    page, login, sales, draft, console_problems
):
    row = _open_dashboard(page, login, sales, draft)
    page.context.clear_cookies(name="csrftoken")
    row.get_by_role("button", name="Approve").click()
    alert = page.locator("#messages [role=alert]")
    expect(alert).to_contain_text("This page has expired")
    _expect_row_unchanged(page, row, draft)
    _forget(console_problems, "403")

    alert.get_by_role("button", name="Reload").click()
    row.get_by_role("button", name="Approve").click()
    expect(row.locator(".badge")).to_have_text("Approved")


def test_a_refused_connection_says_nothing_was_changed(page, login, sales, draft, console_problems):
    row = _open_dashboard(page, login, sales, draft)
    page.route(re.compile(r"/bills/\d+/approve$"), lambda route: route.abort())
    row.get_by_role("button", name="Approve").click()
    expect(page.locator("#messages [role=alert]")).to_have_text(re.compile(re.escape(FAILED)))
    _expect_row_unchanged(page, row, draft)
    _forget(console_problems, "ERR_FAILED", "sendError", "htmx:afterRequest")


# 500: our crash; 502: a proxy's page (htmx swaps 502 answers: they are ours, a fragment).
@pytest.mark.parametrize("status", [500, 502])
def test_a_crash_answered_with_a_whole_page_is_never_put_in_the_row(
    page, login, sales, draft, console_problems, status
):
    row = _open_dashboard(page, login, sales, draft)
    page.route(
        re.compile(r"/bills/\d+/approve$"),
        lambda route: route.fulfill(status=status, content_type="text/html", body=ERROR_PAGE),
    )
    row.get_by_role("button", name="Approve").click()
    expect(page.locator("#messages [role=alert]")).to_contain_text(FAILED)
    expect(page.get_by_role("heading", name="Server Error")).to_have_count(0)
    _expect_row_unchanged(page, row, draft)
    _forget(console_problems, str(status))


def test_a_conflict_keeps_its_message_in_the_row(page, login, sales, csm, draft, console_problems):
    row = _open_dashboard(page, login, csm, draft)
    bill_approve(bill=draft, user=sales)  # someone else decides first
    row.get_by_role("button", name="Approve").click()
    expect(row.get_by_role("alert")).to_contain_text("approved")
    expect(row.locator(".badge")).to_have_text("Approved")
    expect(page.locator("#messages [role=alert]")).to_have_count(0)
    _forget(console_problems, "409")
