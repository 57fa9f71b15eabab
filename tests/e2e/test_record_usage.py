"""Finance records a month of usage from a CSV file, and follows the hint to a stale bill."""

import re

import pytest
from playwright.sync_api import expect

from billing_site.core import periods
from tests.factories import CustomerFactory, UsageFactory, make_bill
from usage.models import Usage

pytestmark = pytest.mark.django_db(transaction=True)


def test_finance_uploads_a_csv_and_sees_the_summary(page, login, finance, shot):
    year, month = periods.last_ended_month()
    acme = CustomerFactory(name="Acme Corp")
    globex = CustomerFactory(name="Globex")
    UsageFactory(customer=acme, year=year, month=month, api_usage=900_000)
    bill = make_bill(customer=globex, finance=finance, api_usage=1_500_000)
    login(finance)
    page.goto("/usage/record")
    expect(page.get_by_role("heading", name="Record usage", exact=True)).to_be_visible()
    shot("usage-record")

    csv = (
        "customer,year,month,api_usage\n"
        f"Acme Corp,{year},{month},1250000\n"
        f"Globex,{year},{month},1800000\n"
    )
    upload = page.get_by_role("form", name="Upload a file")
    upload.get_by_label("CSV file").set_input_files(
        {"name": "october.csv", "mimeType": "text/csv", "buffer": csv.encode()}
    )
    upload.get_by_role("button", name="Upload and record").click()

    expect(page.locator(".flash-success .flash-text")).to_have_text(
        "Recorded 2 months: 0 new, 2 updated."
    )
    summary = page.get_by_role("status").filter(has_text="customers in")
    expect(summary).to_contain_text(f"2 customers in {periods.label(year, month)}")
    hint = page.get_by_role("note")
    expect(hint).to_contain_text(
        "1 bill was computed from older usage; recompute it from the bill page."
    )
    shot("usage-record-done")
    assert dict(Usage.objects.values_list("customer__name", "api_usage")) == {
        "Acme Corp": 1_250_000,
        "Globex": 1_800_000,
    }

    hint.get_by_role("link", name=f"Globex, {bill.period}").click()
    expect(page).to_have_url(re.compile(rf"/bills/{bill.pk}$"))
    expect(
        page.get_by_text("This bill was computed from older usage: recompute it.")
    ).to_be_visible()


def test_a_bad_file_lists_its_lines_and_records_nothing(page, login, finance, shot):
    acme = CustomerFactory(name="Acme Corp")
    login(finance)
    page.goto("/usage/record")
    csv = f"customer_id,year,month,api_usage\n{acme.pk},2025,3,-1\n{acme.pk},2025,13,5\n"
    page.get_by_label("CSV file").set_input_files(
        {"name": "bad.csv", "mimeType": "text/csv", "buffer": csv.encode()}
    )
    page.get_by_role("button", name="Upload and record").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was recorded")
    rows = page.locator("table.row-errors tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Usage must be between 0")
    expect(rows.nth(1)).to_contain_text("Enter a month from 1 to 12.")
    shot("usage-record-errors")
    assert not Usage.objects.exists()


def test_finance_records_one_month_by_hand(page, login, finance):
    acme = CustomerFactory(name="Acme Corp")
    login(finance)
    page.goto("/usage/record")
    form = page.get_by_role("form", name="One month")
    form.get_by_label("Customer").select_option(label="Acme Corp")
    form.get_by_label("Year").fill("2025")
    form.get_by_label("Month").select_option(label="March")
    form.get_by_label("API usage").fill("1250000")
    form.get_by_role("button", name="Record usage").click()
    expect(page.locator(".flash-success .flash-text")).to_have_text(
        "Recorded 1 month: 1 new, 0 updated."
    )
    assert Usage.objects.get(customer=acme, year=2025, month=3).api_usage == 1_250_000


def test_a_count_typed_with_a_separator_is_refused_on_its_field(page, login, finance):
    CustomerFactory(name="Acme Corp")
    login(finance)
    page.goto("/usage/record")
    form = page.get_by_role("form", name="One month")
    form.get_by_label("Customer").select_option(label="Acme Corp")
    form.get_by_label("Year").fill("2025")
    form.get_by_label("Month").select_option(label="March")
    form.get_by_label("API usage").fill("250.000")
    form.get_by_role("button", name="Record usage").click()
    usage = page.get_by_role("form", name="One month").get_by_label("API usage")
    expect(usage).to_have_value("250.000")
    expect(usage).to_have_accessible_description(
        re.compile(re.escape("“250.000” is not a whole number: type digits only."))
    )
    assert not Usage.objects.exists()
