"""The dashboard's period where a browser has no month picker: a month typed as people type it
filters the rows and shows back as YYYY-MM; text that is not a month is said at the field
(on the page and in every table fragment), and the rows are those the other filters select."""

import re

import pytest

from bills.models import Status
from tests.factories import htmx

pytestmark = pytest.mark.django_db


@pytest.fixture
def bills(bill_in, customer):
    march_draft = bill_in(Status.DRAFT, customer=customer)  # Acme Corp, 2025-03
    march_sent = bill_in(Status.SENT, monthly_api_limit=10)
    april_draft = bill_in(Status.DRAFT, monthly_api_limit=20)
    april_draft.year, april_draft.month = 2025, 4
    type(april_draft).objects.filter(pk=april_draft.pk).update(month=4)
    return {"march draft": march_draft, "march sent": march_sent, "april draft": april_draft}


def rows(html: str, bills) -> list[str]:
    ids = [int(pk) for pk in re.findall(r'id="bill-row-(\d+)"', html)]
    names = {bill.pk: name for name, bill in bills.items()}
    return sorted(names[pk] for pk in ids)


@pytest.mark.parametrize("typed", ["Mar 2025", "March 2025", "03/2025", "2025/03", "2025-03"])
def test_a_typed_month_filters_and_shows_back_as_yyyy_mm(page_as, sales, bills, typed):
    response = page_as(sales).get("/dashboard", {"period": typed})
    html = response.content.decode()
    assert rows(html, bills) == ["march draft", "march sent"]
    assert re.search(r'<input type="month" name="period" value="2025-03"', html), html[:200]
    assert "is not a month" not in html


def test_a_period_that_is_not_a_month_is_said_at_the_field_and_the_rest_still_filter(
    page_as, sales, bills
):
    response = page_as(sales).get("/dashboard", {"period": "Marc 2025", "status": "draft"})
    html = response.content.decode()
    assert rows(html, bills) == ["april draft", "march draft"]
    assert 'value="Marc 2025"' in html  # what was typed stays, beside its error
    assert (
        '<div class="field-errors" id="id_period_error"><p class="field-error">“Marc 2025” is '
        "not a month. Enter a month as YYYY-MM, e.g. 2026-10.</p></div>" in html
    )


def test_each_table_fragment_refreshes_the_periods_error(page_as, sales, bills):
    client = page_as(sales)
    bad = client.get("/dashboard", {"period": "Marc 2025", "status": "draft"}, **htmx("bill-index"))
    html = bad.content.decode()
    assert rows(html, bills) == ["april draft", "march draft"]
    assert re.search(
        r'<div id="period-errors" hx-swap-oob="true"><div class="field-errors" '
        r'id="id_period_error"><p class="field-error">“Marc 2025” is not a month\.',
        html,
    )
    good = client.get("/dashboard", {"period": "Mar 2025", "status": "draft"}, **htmx("bill-index"))
    html = good.content.decode()
    assert rows(html, bills) == ["march draft"]
    assert '<div id="period-errors" hx-swap-oob="true"></div>' in html
