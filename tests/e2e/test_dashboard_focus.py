"""The bill index by keyboard and screen reader: after a tile, a sort header or the pager,
focus is back on the control that was used (a second Enter does the same again), a polite
status region says how many bills match, and Back shows the whole filtered page (issue 15)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from bills.services import bill_approve
from tests.factories import make_bill

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def book(finance, sales):
    """52 drafts (three pages of 25 when filtered) and one approved bill."""
    for i in range(52):
        make_bill(finance=finance, name=f"Bulk {i:02d}")
    bill_approve(bill=make_bill(finance=finance, name="Done Ltd"), user=sales)


@pytest.fixture
def few(finance, sales):
    """Three drafts and one approved bill."""
    for name in ("Acme Corp", "Globex", "Initech"):
        make_bill(finance=finance, name=name)
    bill_approve(bill=make_bill(finance=finance, name="Done Ltd"), user=sales)


def settled(page) -> None:
    """Wait until htmx has settled its last swap. Focus moves at the swap, but htmx wires the new
    links (hx-get) only at the settle: an Enter in between follows the plain href, a whole page
    load that leaves focus on the body. base.html sets defaultSettleDelay to 0 (htmx's default
    is 20 ms, long enough for a quick double Enter); the test still waits for the settle."""
    expect(page.locator(".htmx-added, .htmx-settling")).to_have_count(0)


def test_enter_twice_on_next_goes_two_pages_on_and_keeps_the_filter(page, login, sales, book):
    login(sales)
    page.goto("/dashboard?awaiting=&status=draft")
    page.locator("#pager-next").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    expect(page.locator("#pager-next")).to_be_focused()
    settled(page)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]page=3"))
    assert "status=draft" in page.url
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(2)
    expect(page.locator("#tile-draft")).to_have_attribute("aria-current", "true")
    # No Next on the last page: focus goes to the first row instead of the "All" tile.
    # Focus moves once htmx has settled the swap: give a loaded machine time.
    expect(page.locator("tbody tr").first.locator("a[href]").first).to_be_focused(timeout=15_000)


def test_a_tile_or_a_header_keeps_focus_and_the_count_is_announced(page, login, sales, few):
    login(sales)
    page.goto("/dashboard?awaiting=")
    expect(page.locator("#bill-count")).to_have_text("4 bills")

    page.locator("#tile-approved").click()
    expect(page.locator("#tile-approved")).to_have_attribute("aria-current", "true")
    expect(page.locator("#tile-approved")).to_be_focused()
    expect(page.locator("#bill-count")).to_have_text("1 bill")
    settled(page)
    assert page.locator("#bill-count").get_attribute("role") == "status"

    page.locator("#sort-amount").press("Enter")
    expect(page.locator("#sort-amount")).to_have_class(re.compile("is-active"))
    expect(page.locator("#sort-amount")).to_be_focused()
    settled(page)

    page.locator("#tile-paid").click()
    expect(page.locator("#bill-count")).to_have_text("No paid bills.")
    expect(page.locator("#tile-paid")).to_be_focused()


def test_back_after_opening_a_bill_shows_the_whole_filtered_page(page, login, sales, few):
    login(sales)
    page.goto("/dashboard?awaiting=")
    page.locator("#tile-approved").click()
    expect(page).to_have_url(re.compile(r"status=approved"))
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(1)
    page.locator("tr[id^=bill-row-] .cell-period a").click()
    expect(page).to_have_url(re.compile(r"/bills/\d+$"))

    page.go_back()
    expect(page).to_have_url(re.compile(r"/dashboard\?.*status=approved"))
    expect(page.get_by_role("heading", name="Overage bills", level=1)).to_be_visible()
    expect(page.locator("header.topbar")).to_have_count(1)
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(1)
    expect(page.get_by_label("Status", exact=True)).to_have_value("approved")
