"""Where a browser has no month picker (Firefox and desktop Safari show a text box), the
dashboard's period reads the months people type, says at the field when it cannot, and the
address bar, the form and the rows always agree; the other filters keep working."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from bills.models import Status
from bills.services import bill_approve
from tests.factories import CustomerFactory, make_bill

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bills(finance, sales, bill_in):
    acme = CustomerFactory(name="Acme Corp")
    globex = CustomerFactory(name="Globex")
    old = make_bill(customer=acme, finance=finance, year=2025, month=2)
    return {
        "acme-draft": make_bill(customer=acme, finance=finance, year=2025, month=3),
        "acme-old": bill_approve(bill=old, user=sales),
        "globex-draft": make_bill(customer=globex, finance=finance, year=2025, month=3),
        "sent": bill_in(Status.SENT, api_usage=2_750_000),  # March 2025
    }


def _params(page) -> dict[str, list[str]]:
    params = parse_qs(urlsplit(page.url).query)
    params.pop("per_page", None)
    return params


def _rows(page, bills) -> list[str]:
    names = {f"bill-row-{bill.pk}": name for name, bill in bills.items()}
    ids = page.locator("tr[id^=bill-row-]").evaluate_all("rows => rows.map(r => r.id)")
    return sorted(names[i] for i in ids)


def test_a_month_typed_in_a_text_box_filters_and_keeps_the_other_filters_working(
    page, login, finance, bills
):
    login(finance)
    page.goto("/dashboard")
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(4)
    page.evaluate("document.getElementById('id_period').type = 'text'")  # as in Firefox
    period = page.get_by_label("Period", exact=True)
    expect(page.locator("#id_period_helptext")).to_have_text(
        "YYYY-MM, e.g. 2026-09 (Sep 2026 works too)."
    )

    period.fill("Mar 2025")
    period.press("Tab")  # leaving the box is the change
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(3)
    assert _rows(page, bills) == ["acme-draft", "globex-draft", "sent"]
    assert _params(page) == {"period": ["Mar 2025"]}

    page.get_by_label("Status", exact=True).select_option("draft")
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(2)
    assert _rows(page, bills) == ["acme-draft", "globex-draft"]
    assert _params(page) == {"period": ["Mar 2025"], "status": ["draft"]}
    assert period.input_value() == "Mar 2025"
    expect(page.locator("#period-errors")).to_be_empty()


def test_a_period_that_is_not_a_month_is_said_and_the_rows_follow_the_other_filters(
    page, login, finance, bills
):
    login(finance)
    page.goto("/dashboard")
    page.evaluate("document.getElementById('id_period').type = 'text'")
    period = page.get_by_label("Period", exact=True)
    period.fill("Marc 2025")
    period.press("Tab")
    error = page.locator("#period-errors")
    expect(error).to_have_text(
        "“Marc 2025” is not a month. Enter a month as YYYY-MM, e.g. 2026-10."
    )
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(4)  # the period is not applied

    page.get_by_label("Status", exact=True).select_option("approved")
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(1)
    assert _rows(page, bills) == ["acme-old"]
    assert _params(page) == {"period": ["Marc 2025"], "status": ["approved"]}
    assert period.input_value() == "Marc 2025"
    expect(error).to_contain_text("“Marc 2025” is not a month.")

    period.fill("2025/02")  # corrected: the error goes, the period applies
    period.press("Tab")
    expect(error).to_be_empty()
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(1)
    assert _params(page) == {"period": ["2025/02"], "status": ["approved"]}
