"""Payments clicked through: Finance records part of a sent bill's amount on its page, then the
rest, and the bill reads paid; the dashboard's Overdue tile counts one bill fewer once a late
bill is paid."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from billing_site.core import periods
from bills.models import Invoice, Status
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


@pytest.fixture
def late(bill_in, csm):
    """Acme Corp's sent bill of USD 1,250.00, due ten days ago, and Globex's, not due yet."""
    acme = bill_in(Status.SENT, customer=CustomerFactory(name="Acme Corp", csm=csm))
    today = periods.today()
    Invoice.objects.filter(bill=acme).update(
        issued_on=today - timedelta(days=40), due_on=today - timedelta(days=10)
    )
    bill_in(Status.SENT, customer=CustomerFactory(name="Globex"), api_usage=1_200_000)
    return acme


def record(page, amount: str, reference: str) -> None:
    form = page.get_by_role("form", name="Record payment")
    form.get_by_label("Amount (USD)").fill(amount)
    form.get_by_label("Reference").fill(reference)
    form.get_by_role("button", name="Record payment").click()


def test_finance_records_part_then_the_rest_and_the_bill_is_paid(
    page, login, finance, late, shot, console_problems
):
    login(finance)
    page.goto(f"/bills/{late.pk}")
    payments = page.locator("#payments")
    expect(payments.locator(".balance-due")).to_have_text("USD\u00a01,250.00")
    expect(payments.get_by_text("overdue", exact=True)).to_be_visible()
    form = page.get_by_role("form", name="Record payment")
    expect(form.get_by_label("Amount (USD)")).to_have_value("1250.00")
    expect(form.get_by_label("Date received")).to_have_value(periods.today().isoformat())

    record(page, "1300.00", "BANK 1")  # more than is due
    expect(page.locator("#payment-amount-error")).to_contain_text("more than the balance due")
    console_problems[:] = [p for p in console_problems if "status of 400" not in p]
    record(page, "1000.00", "BANK 77")
    expect(page.get_by_role("status")).to_have_text(
        f"Bill #{late.pk}: payment recorded; USD\u00a0250.00 is still due."
    )
    expect(payments.locator(".balance-due")).to_have_text("USD\u00a0250.00")
    expect(page.locator(".head-side .badge")).to_have_text("Sent")
    expect(
        page.get_by_role("form", name="Record payment").get_by_label("Amount (USD)")
    ).to_have_value("250.00")
    page.set_viewport_size(PHONE)
    shot("payments-part-paid-390")
    page.set_viewport_size(DESKTOP)

    record(page, "250.00", "BANK 78")
    expect(page.get_by_role("status")).to_have_text(
        f"Bill #{late.pk}: payment recorded; the bill is paid in full."
    )
    expect(page.locator(".head-side .badge")).to_have_text("Paid")
    expect(page.locator(".head-side .big-amount-label")).to_have_text("Paid")
    expect(payments.locator(".balance-due")).to_have_text("USD\u00a00.00")
    expect(page.get_by_role("form", name="Record payment")).to_have_count(0)
    expect(payments.locator("tbody tr")).to_have_count(2)
    last = page.locator(".timeline .event").last
    expect(last).to_contain_text("recorded a payment")
    expect(last).to_contain_text("Sent → Paid")
    expect(last).to_contain_text(re.compile(r"Payment #\d+: USD\u00a0250\.00 received .*BANK 78"))
    shot("payments-paid")


def test_the_overdue_tile_counts_one_fewer_once_the_late_bill_is_paid(
    page, login, finance, late, shot
):
    login(finance)
    page.goto("/dashboard")
    overdue = page.locator(".tab-overdue")
    outstanding = page.locator(".tab-outstanding")
    expect(overdue.locator(".tab-count")).to_have_text("1")
    expect(overdue.locator(".tab-amount")).to_have_text("USD\u00a01,250.00")
    expect(outstanding.locator(".tab-count")).to_have_text("2")
    expect(page.locator(f"#bill-row-{late.pk}").get_by_text("overdue", exact=True)).to_be_visible()
    page.set_viewport_size(PHONE)
    shot("aging-tiles-390")
    page.set_viewport_size(DESKTOP)

    overdue.click()  # the tile filters the table in place
    expect(page).to_have_url(re.compile(r"overdue=true"))
    expect(page.locator("#bill-index tbody tr")).to_have_count(1)
    expect(page.locator("#id_overdue")).to_have_value("true")

    page.goto(f"/bills/{late.pk}")
    record(page, "1250.00", "BANK 77")
    expect(page.locator(".head-side .badge")).to_have_text("Paid")
    page.goto("/dashboard")
    expect(page.locator(".tab-overdue .tab-count")).to_have_text("0")
    expect(page.locator(".tab-overdue .tab-amount")).to_have_text("USD\u00a00.00")
    expect(page.locator(".tab-outstanding .tab-count")).to_have_text("1")
    expect(page.locator(".tab-paid .tab-count")).to_have_text("1")
