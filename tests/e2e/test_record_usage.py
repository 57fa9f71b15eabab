"""Finance records usage from a CSV file: a bad line is named with its value, the fixed file is
previewed, confirmed, and the customer page shows the new total with its revision."""

import re

import pytest
from playwright.sync_api import expect

from billing_site.core import periods
from tests.factories import CustomerFactory, UsageFactory, make_bill
from usage.models import Usage, UsageRevision

pytestmark = pytest.mark.django_db(transaction=True)


def choose_file(page, name: str, content: str) -> None:
    upload = page.get_by_role("form", name="Upload a file")
    upload.get_by_label("CSV file").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": content.encode()}
    )
    upload.get_by_role("button", name="Upload and preview").click()


def test_finance_fixes_a_bad_line_previews_and_confirms_a_file(page, login, finance, shot):
    year, month = periods.last_ended_month()
    label = periods.label(year, month)
    acme = CustomerFactory(name="Acme Corp")
    CustomerFactory(name="Globex")
    UsageFactory(customer=acme, year=year, month=month, api_usage=900_000)
    login(finance)
    page.goto("/usage/record")
    expect(page.get_by_role("heading", name="Record usage", exact=True)).to_be_visible()

    # One bad line: the page names it, its column and what it holds; nothing is written.
    bad = (
        "customer,year,month,api_usage\n"
        f"Acme Corp,{year},{month},1250000\n"
        f"Globex,{year},{month},1.800.000\n"
    )
    choose_file(page, "october.csv", bad)
    expect(page.get_by_role("alert")).to_contain_text("Nothing was recorded")
    rows = page.locator("table.row-errors tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("3")
    expect(rows.nth(0)).to_contain_text("“1.800.000” is not a whole number: type digits only.")
    shot("usage-record-bad-line")
    assert Usage.objects.get().api_usage == 900_000

    # Fixed: the preview shows what would change, still writing nothing.
    choose_file(page, "october.csv", bad.replace("1.800.000", "1800000"))
    preview = page.get_by_role("region", name="Preview of october.csv")
    expect(preview).to_contain_text(
        "Nothing is recorded yet. 2 rows, 2 to change: 1 new month, 1 changed, 0 unchanged."
    )
    changed = preview.locator("table.preview-changed tbody tr")
    expect(changed).to_have_count(1)
    expect(changed.nth(0)).to_contain_text("Acme Corp")
    expect(changed.nth(0)).to_contain_text("900,000")
    expect(changed.nth(0)).to_contain_text("1,250,000")
    expect(preview.locator("table.preview-new tbody tr")).to_contain_text("Globex")
    shot("usage-record-preview")
    assert Usage.objects.get().api_usage == 900_000

    # Confirm: recorded, with a revision per change.
    preview.get_by_role("button", name="Confirm and record 2 changes").click()
    expect(page.locator(".flash-success .flash-text")).to_have_text(
        "Recorded 2 rows, 2 changed: 1 new, 1 updated, 0 unchanged."
    )
    assert dict(Usage.objects.values_list("customer__name", "api_usage")) == {
        "Acme Corp": 1_250_000,
        "Globex": 1_800_000,
    }
    assert UsageRevision.objects.count() == 2

    # The customer page shows the new total and, folded, the change that made it.
    page.goto(f"/customers/{acme.pk}")
    row = page.locator("tr", has=page.locator(f'time[datetime="{year}-{month:02d}"]'))
    expect(row).to_contain_text("1,250,000")
    changes = row.locator("details.revisions")
    expect(changes.locator("li")).not_to_be_visible()
    changes.get_by_text("1 change").click()
    expect(changes.locator("li")).to_have_count(1)
    expect(changes.locator("li")).to_contain_text("900,000 → 1,250,000")
    expect(changes.locator("li")).to_contain_text("by fiona")
    expect(changes.locator("li")).to_contain_text("via a CSV upload (october.csv)")
    expect(changes.get_by_text(f"1 change to {label}")).to_be_attached()
    shot("customer-usage-revisions")


def test_confirming_flags_the_bills_computed_from_older_usage(page, login, finance):
    year, month = periods.last_ended_month()
    globex = CustomerFactory(name="Globex")
    bill = make_bill(customer=globex, finance=finance, api_usage=1_500_000)
    login(finance)
    page.goto("/usage/record")
    choose_file(page, "late.csv", f"customer,year,month,api_usage\nGlobex,{year},{month},1800000\n")
    expect(page.get_by_role("note")).to_contain_text(
        "1 bill was computed from other totals and will be flagged for recomputing"
    )
    page.get_by_role("button", name="Confirm and record 1 change").click()
    hint = page.get_by_role("note")
    expect(hint).to_contain_text(
        "1 bill was computed from older usage; recompute it from the bill page."
    )
    hint.get_by_role("link", name=f"Globex, {bill.period}").click()
    expect(page).to_have_url(re.compile(rf"/bills/{bill.pk}$"))
    expect(
        page.get_by_text("This bill was computed from older usage: recompute it.")
    ).to_be_visible()


def test_finance_records_one_month_by_hand(page, login, finance):
    # More customers than the box suggests before anything is typed (20), Acme not among them.
    CustomerFactory.create_batch(21, name="Aardvark Ltd")
    acme = CustomerFactory(name="Acme Corp")
    login(finance)
    page.goto("/usage/record")
    form = page.get_by_role("form", name="One month")
    suggested = page.locator("#id_entry-customer-options option")
    expect(suggested).to_have_count(20)
    expect(suggested.first).to_have_attribute("value", re.compile(r"^Aardvark Ltd \(#\d+\)$"))
    # Typing part of the name asks the server for the customers whose name holds it.
    form.get_by_label("Customer").press_sequentially("cme c")
    expect(suggested).to_have_count(1)
    expect(suggested).to_have_attribute("value", f"Acme Corp (#{acme.pk})")
    form.get_by_label("Customer").fill(f"Acme Corp (#{acme.pk})")  # what choosing it types
    form.get_by_label("Year").fill("2025")
    form.get_by_label("Month").select_option(label="March")
    form.get_by_label("API usage").fill("1250000")
    form.get_by_role("button", name="Record usage").click()
    expect(page.locator(".flash-success .flash-text")).to_have_text(
        "Acme Corp, Mar 2025: 1,250,000 API calls, a new month."
    )
    expect(page.locator(".result-card")).to_contain_text(
        "Recorded 1 row, 1 changed: 1 new, 0 updated, 0 unchanged."
    )
    assert Usage.objects.get(customer=acme, year=2025, month=3).api_usage == 1_250_000


def test_replacing_a_recorded_month_asks_first_and_names_old_and_new(page, login, finance, shot):
    acme = CustomerFactory(name="Acme Corp")
    UsageFactory(customer=acme, year=2025, month=3, api_usage=12_000)
    login(finance)
    page.goto("/usage/record")
    form = page.get_by_role("form", name="One month")
    form.get_by_label("Customer").fill("Acme Corp")  # an exact name needs no choosing
    form.get_by_label("Year").fill("2025")
    form.get_by_label("Month").select_option(label="March")
    form.get_by_label("API usage").fill("15000")
    form.get_by_role("button", name="Record usage").click()
    expect(page.get_by_role("alert")).to_contain_text("Currently 12,000; you are setting 15,000")
    assert Usage.objects.get(customer=acme).api_usage == 12_000
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= 390")
    shot("record-usage-confirm-390")
    page.get_by_role("button", name="Confirm: replace 12,000 with 15,000").click()
    expect(page.locator(".flash-success .flash-text")).to_have_text(
        "Acme Corp, Mar 2025: 12,000 → 15,000 API calls."
    )
    assert Usage.objects.get(customer=acme).api_usage == 15_000


def test_a_count_typed_with_a_separator_is_refused_on_its_field(page, login, finance):
    CustomerFactory(name="Acme Corp")
    login(finance)
    page.goto("/usage/record")
    form = page.get_by_role("form", name="One month")
    form.get_by_label("Customer").fill("Acme Corp")  # an exact name needs no choosing
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
