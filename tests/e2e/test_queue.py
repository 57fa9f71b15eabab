"""A CSM's day starts on their queue: only the drafts waiting for them, the count in the
navigation, and an approval in place that lowers it."""

import re

import pytest
from playwright.sync_api import expect

from bills.services import bill_approve
from tests.factories import CustomerFactory, make_bill

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue(finance, sales, csm, other_csm):
    """casey's queue: Acme and Beta (theirs) and Orphan (no CSM); not Cora Co (cora's) nor the
    approved Done Inc."""
    bills = {
        name: make_bill(customer=CustomerFactory(name=name, csm=who), finance=finance)
        for name, who in [
            ("Acme", csm),
            ("Beta", csm),
            ("Orphan", None),
            ("Cora Co", other_csm),
            ("Done Inc", csm),
        ]
    }
    bill_approve(bill=bills["Done Inc"], user=sales)
    return bills


def test_a_csm_opens_on_their_queue_and_an_approval_lowers_the_count(page, login, csm, queue, shot):
    login(csm)
    page.goto("/dashboard")
    expect(page).to_have_url("/dashboard?awaiting=me")
    rows = page.locator("tr[id^=bill-row-]")
    expect(rows).to_have_count(3)
    expect(rows.locator(".cell-customer")).to_have_text(["Acme", "Beta", "Orphan"])
    badge = page.locator("#awaiting-count")
    expect(badge).to_contain_text("3")
    dashboard = page.get_by_role(
        "link", name=re.compile(r"^Dashboard\W+3 waiting for your approval$")
    )
    expect(dashboard).to_be_visible()
    expect(page.get_by_label("Waiting for me")).to_be_checked()
    shot("queue-csm")

    row = page.locator(f"#bill-row-{queue['Acme'].pk}")
    row.get_by_role("button", name="Approve").click()
    expect(row.locator(".badge")).to_have_text("Approved")
    expect(badge).to_contain_text("2")
    expect(page.locator("#status-counts .tab-draft .tab-count")).to_have_text("2")


def test_unticking_shows_every_bill_and_clear_keeps_it_so(page, login, csm, queue):
    login(csm)
    page.goto("/dashboard")
    page.get_by_label("Waiting for me").uncheck()
    rows = page.locator("tr[id^=bill-row-]")
    expect(rows).to_have_count(5)
    expect(page).not_to_have_url(re.compile("awaiting"))
    expect(page.get_by_label("Waiting for me")).not_to_be_checked()
    # The pushed URL says "every bill" too: reloading it does not fall back to the queue.
    page.reload()
    expect(rows).to_have_count(5)
    expect(page.get_by_label("Waiting for me")).not_to_be_checked()
    page.get_by_label("Waiting for me").check()
    expect(rows).to_have_count(3)
    expect(page).to_have_url(re.compile(r"[?&]awaiting=me(&|$)"))
    page.get_by_role("link", name="Clear").click()
    expect(page).to_have_url("/dashboard?awaiting=")
    expect(rows).to_have_count(5)
    expect(page.locator("#awaiting-count")).to_contain_text("3")


def test_the_queue_reads_well_on_a_phone(page, login, csm, queue, shot):
    page.set_viewport_size({"width": 390, "height": 844})
    login(csm)
    page.goto("/dashboard")
    expect(page.locator("#awaiting-count")).to_be_visible()
    expect(page.get_by_label("Waiting for me")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}px"
    shot("queue-csm-phone")
    page.goto("/profile")
    expect(
        page.get_by_label("Email me a digest when new bills wait for my approval")
    ).to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot("profile-phone")
