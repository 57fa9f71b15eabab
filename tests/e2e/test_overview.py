"""The usage overview in the browser: pick last month, read its figures and the suspicious
customer, follow a top consumer to its page; and the same page on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from billing_site.core import periods
from tests.e2e.audit import NAMES_AND_LABELS, TEXT_CONTRAST
from tests.factories import CustomerFactory, UsageFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def usage_book(db):
    """Three customers with six steady months before last month; Spiky jumps last month."""
    year, month = periods.last_ended_month()
    history, period = [], (year, month)
    for _ in range(6):
        period = periods.previous_month(*period)
        history.append(period)
    steady = {"Acme Corp": 1_200_000, "Spiky Labs": 50_000, "Calm Ltd": 800_000}
    last = {"Acme Corp": 1_500_000, "Spiky Labs": 400_000, "Calm Ltd": 810_000}
    customers = {}
    for name, calls in steady.items():
        customers[name] = CustomerFactory(name=name, monthly_api_limit=1_000_000)
        for y, m in history:
            UsageFactory(customer=customers[name], year=y, month=m, api_usage=calls)
        UsageFactory(customer=customers[name], year=year, month=month, api_usage=last[name])
    today = periods.today()
    UsageFactory(customer=customers["Calm Ltd"], year=today.year, month=today.month, api_usage=10)
    CustomerFactory(name="Quiet Co")
    return {"period": (year, month), "customers": customers}


def test_pick_last_month_see_the_figures_and_follow_a_top_consumer(
    page, login, shot, finance, usage_book
):
    year, month = usage_book["period"]
    today = periods.today()
    login(finance)
    page.goto("/dashboard")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Usage", exact=True
    ).click()
    expect(page.get_by_role("heading", name="Usage overview")).to_be_visible()
    expect(page.locator("#month-title")).to_contain_text(periods.label(today.year, today.month))

    picker = page.get_by_role("form", name="Pick a month")
    picker.get_by_label("Month").select_option(str(month))
    picker.get_by_label("Year").fill(str(year))
    picker.get_by_role("button", name="Show month").click()
    expect(page.locator("#month-title")).to_have_text(periods.label(year, month))
    assert f"year={year}" in page.url and f"month={month}" in page.url  # a link to share

    figures = page.get_by_role("region", name=f"Figures for {periods.label(year, month)}")
    expect(figures).to_contain_text("API calls 2,710,000")
    expect(figures).to_contain_text("Over the limit 1")
    expect(figures).to_contain_text("Near the limit 1")
    expect(figures).to_contain_text(re.compile(r"Overage at current terms\s+USD\s1,250\.00"))
    suspicious = page.get_by_role("region", name="Suspicious usage")
    expect(suspicious).to_contain_text("Spiky Labs: 400,000 calls, 8x the 6-month median of 50,000")
    shot("usage-overview")

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot("phone-usage-overview")
    page.set_viewport_size({"width": 1280, "height": 860})

    top = page.get_by_role("region", name="Top consumers")
    top.get_by_role("link", name="Acme Corp").click()
    expect(page.get_by_role("heading", name="Acme Corp", level=1)).to_be_visible()
    expect(page.get_by_role("img", name="API calls per month")).to_be_visible()


def test_the_month_links_walk_back_and_forth(page, login, sales, usage_book):
    login(sales)
    today = periods.today()
    before = periods.previous_month(today.year, today.month)
    page.goto("/usage")
    page.get_by_role("link", name=periods.label(*before), exact=True).click()
    expect(page.locator("#month-title")).to_have_text(periods.label(*before))
    expect(page.get_by_role("link", name=periods.label(today.year, today.month))).to_be_visible()
    page.go_back()
    expect(page.locator("#month-title")).to_contain_text(periods.label(today.year, today.month))


def test_the_customer_page_marks_the_suspicious_month(page, login, shot, sales, usage_book):
    login(sales)
    spiky = usage_book["customers"]["Spiky Labs"]
    page.goto(f"/customers/{spiky.pk}")
    year, month = usage_book["period"]
    expect(page.get_by_role("region", name="Suspicious months")).to_contain_text(
        f"{periods.label(year, month)}: 400,000 calls, 8x the 6-month median of 50,000"
    )
    expect(page.locator(".chart-wide [data-flagged]")).to_have_count(1)
    shot("customer-suspicious")


@pytest.mark.parametrize("size", [{"width": 1440, "height": 900}, {"width": 390, "height": 844}])
def test_the_overview_and_the_flagged_customer_are_labelled_and_readable(
    page, login, finance, usage_book, size
):
    page.set_viewport_size(size)
    login(finance)
    year, month = usage_book["period"]
    spiky = usage_book["customers"]["Spiky Labs"]
    problems = []
    for path in ("/usage", f"/usage?year={year}&month={month}", f"/customers/{spiky.pk}"):
        page.goto(path)
        problems += [f"{path}: {p}" for p in page.evaluate(NAMES_AND_LABELS)]
        problems += [f"{path}: {p}" for p in page.evaluate(TEXT_CONTRAST)]
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    assert problems == []
