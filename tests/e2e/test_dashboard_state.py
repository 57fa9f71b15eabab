"""The dashboard keeps one state (URL, filter form, tiles, rows) however fast people click; its
Export CSV link follows that state; every role's pages fit a 390 px phone without sideways
scrolling, and no amount wraps inside its number."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from bills.models import Status
from tests.factories import CustomerFactory, make_bill

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def bills(finance, sales, bill_in):
    """Two Acme bills (a draft, an approved one), a Globex draft, a sent bill: {name: bill}."""
    acme = CustomerFactory(name="Acme Corp")
    globex = CustomerFactory(name="Globex")
    made = {
        "acme-draft": make_bill(customer=acme, finance=finance, year=2025, month=3),
        "acme-old": make_bill(customer=acme, finance=finance, year=2025, month=2),
        "globex-draft": make_bill(customer=globex, finance=finance, year=2025, month=3),
        "sent": bill_in(Status.SENT, api_usage=2_750_000),
    }
    from bills.services import bill_approve

    made["acme-old"] = bill_approve(bill=made["acme-old"], user=sales)
    return made


def _params(page) -> dict[str, list[str]]:
    """The address bar's filters (the rows per page aside: the form always sends them)."""
    params = parse_qs(urlsplit(page.url).query)
    params.pop("per_page", None)
    return params


def _rows(page) -> list[int]:
    ids = page.locator("tr[id^=bill-row-]").evaluate_all("rows => rows.map(r => r.id)")
    return [int(i.removeprefix("bill-row-")) for i in ids]


def test_a_tile_clicked_while_typing_keeps_url_form_tiles_and_rows_in_step(
    page, login, finance, bills
):
    login(finance)
    page.goto("/dashboard")
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(4)
    page.get_by_label("Customer", exact=True).press_sequentially("acme", delay=20)
    # Before the search box's own request (350 ms after the last key) has gone out.
    page.locator("#status-counts .tab-draft").click()

    expect(page.locator("#status-counts .tab-draft")).to_have_attribute("aria-current", "true")
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(1)
    page.wait_for_timeout(800)  # every pending request has landed
    assert _params(page) == {"customer": ["acme"], "status": ["draft"]}
    assert page.get_by_label("Customer", exact=True).input_value() == "acme"
    assert page.get_by_label("Status", exact=True).input_value() == "draft"
    assert page.locator("#status-counts [aria-current=true]").count() == 1
    assert _rows(page) == [bills["acme-draft"].pk]
    expect(page.locator("#export-csv")).to_have_attribute(
        "href", "/api/bills.csv?status=draft&customer=acme"
    )

    # Typing again keeps the tile's status; "All" then drops it everywhere.
    page.get_by_label("Customer", exact=True).fill("")
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(2)
    assert _params(page) == {"status": ["draft"]}
    page.locator("#status-counts .tab-all").click()
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(4)
    assert _params(page) == {}
    assert page.get_by_label("Status", exact=True).input_value() == ""
    expect(page.locator("#export-csv")).to_have_attribute("href", "/api/bills.csv")


def test_a_filter_from_a_link_is_a_chip_that_removes_it(page, login, finance, bills):
    acme = bills["acme-draft"].customer
    login(finance)
    page.goto(f"/dashboard?customer_id={acme.pk}")
    chip = page.locator(".filter-chip")
    expect(chip).to_contain_text("Customer: Acme Corp")
    assert sorted(_rows(page)) == sorted([bills["acme-draft"].pk, bills["acme-old"].pk])
    # The form keeps it: another filter narrows within the customer's bills.
    page.get_by_label("Status", exact=True).select_option("approved")
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(1)
    assert _params(page) == {"customer_id": [str(acme.pk)], "status": ["approved"]}
    page.get_by_role("link", name="Remove filter: Customer: Acme Corp").click()
    expect(page.locator(".filter-chip")).to_have_count(0)
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(1)  # the approved one, any customer
    assert _params(page) == {"status": ["approved"]}
    page.get_by_label("Status", exact=True).select_option("")
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(4)  # customer_id is gone for good


def test_the_export_downloads_the_rows_on_screen(page, login, finance, bills):
    login(finance)
    page.goto("/dashboard")
    page.get_by_label("Sort by").select_option("amount")
    expect(page.locator("#export-csv")).to_have_attribute("href", "/api/bills.csv?sort=amount")
    with page.expect_download() as download:
        page.locator("#export-csv").click()
    with open(download.value.path(), encoding="utf-8") as exported:
        text = exported.read()
    ids = [int(row[0]) for row in list(csv.reader(io.StringIO(text)))[1:]]
    assert ids == _rows(page)


def test_the_unbilled_link_shows_its_count(page, login, finance, bills):
    from billing_site.core import periods
    from tests.factories import UsageFactory

    year, month = periods.last_ended_month()
    UsageFactory(customer=CustomerFactory(name="Forgot Inc"), year=year, month=month)
    login(finance)
    page.goto("/dashboard")
    link = page.get_by_role("link", name=re.compile(r"Unbilled overage"))
    expect(link).to_have_text("Unbilled overage (1)")
    link.click()
    expect(page.get_by_role("heading", name="Unbilled overage")).to_be_visible()
    expect(page.locator(".unbilled-table tbody tr")).to_have_count(1)
    expect(
        page.get_by_role("button", name=f"Generate {periods.label(year, month)[:3]}")
    ).to_be_visible()


# --- 390 px ----------------------------------------------------------------------------------

AMOUNT_LINES = """() => [...document.querySelectorAll('.amount, .tab-amount, .money')]
    .filter(el => el.offsetParent !== null && el.textContent.trim())
    .map(el => {
        const range = document.createRange();
        range.selectNodeContents(el);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        return [el.textContent.trim(), tops.size];
    })
    .filter(([, lines]) => lines > 1)"""


@pytest.mark.parametrize("role", ["finance", "sales", "csm", "staff"])
def test_every_page_fits_a_phone(page, login, users, staff, bills, role, shot):
    user = staff if role == "staff" else users[role]
    login(user)
    page.set_viewport_size(PHONE)
    for path in ("/dashboard?awaiting=", "/customers", "/usage", f"/bills/{bills['sent'].pk}"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width}px wide for {role}"
        assert page.evaluate(AMOUNT_LINES) == [], f"an amount wraps on {path}"
        nav = page.get_by_role("navigation", name="Main")
        expect(nav).to_be_visible()
        assert nav.evaluate("n => n.scrollWidth <= n.clientWidth"), (
            f"the navigation scrolls on {path}"
        )
    shot(f"bill-390-{role}")
