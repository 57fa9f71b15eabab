"""Every page in the browser: it renders without console errors, shows names as text, and
leaves a screenshot in test-artifacts/screenshots/ for a person to judge the design."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import EVIL

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_page_renders_cleanly(page, login, shot, demo, finance, console_problems):
    login(finance)
    acme, evil = demo["customers"]["acme"], demo["customers"]["evil"]
    page.goto("/dashboard")
    expect(page.get_by_role("button", name="Generate bills")).to_be_visible()
    shot("dashboard-finance")

    page.goto("/customers")
    expect(page.get_by_role("link", name="Acme Corp")).to_be_visible()
    shot("customers")

    page.goto(f"/customers/{acme.pk}")
    expect(page.get_by_role("img", name="API calls per month")).to_be_visible()
    shot("customer-detail")

    page.goto(f"/bills/{demo['bills']['acme'].pk}")
    expect(page.get_by_role("heading", name="How the amount was computed")).to_be_visible()
    page.get_by_text("Reprice…").click()
    shot("bill-finance-reprice")

    page.goto(f"/customers/{evil.pk}/nope")
    expect(page.get_by_role("heading", name="This page does not exist")).to_be_visible()
    shot("not-found")
    console_problems[:] = [p for p in console_problems if "status of 404" not in p]


def test_names_with_html_are_shown_as_text(page, login, demo, sales):
    login(sales)
    evil, bill = demo["customers"]["evil"], demo["bills"]["evil"]
    for path in ("/dashboard", "/customers", f"/customers/{evil.pk}", f"/bills/{bill.pk}"):
        page.goto(path)
        expect(page.get_by_text(EVIL).first).to_be_visible()
        expect(page.locator("img[src=x]")).to_have_count(0)
    page.goto(f"/bills/{bill.pk}/invoice")
    expect(page.get_by_text(EVIL)).to_be_visible()


def test_phone_sized_screens_get_stacked_rows(page, login, shot, demo, csm):
    page.set_viewport_size({"width": 390, "height": 844})
    login(csm)
    page.goto("/dashboard")
    row = page.locator(f"#bill-row-{demo['bills']['acme'].pk}")
    expect(row.get_by_role("button", name="Approve")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot("phone-dashboard")
    page.goto(f"/bills/{demo['bills']['acme'].pk}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot("phone-bill")
    page.goto(f"/customers/{demo['customers']['acme'].pk}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot("phone-customer")


def test_the_keyboard_reaches_and_uses_the_row_buttons(page, login, demo, sales):
    login(sales)
    page.goto("/dashboard")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    row = page.locator(f"#bill-row-{demo['bills']['acme'].pk}")
    row.get_by_role("button", name="Approve").focus()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    expect(row.locator(".badge")).to_have_text("Approved")
