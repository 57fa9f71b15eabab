"""The customer page's usage table: each month's revisions in a <details>, newest first (who,
when, from where, old -> new), read with the months in one query however many there are."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing_site.core import periods
from tests.factories import UsageFactory
from usage.selectors import usage_months
from usage.services import usage_record, usage_record_many

pytestmark = pytest.mark.django_db


def last_month():
    return periods.last_ended_month()


def details(html: str, period: str) -> str:
    """The table row of the month `period` (YYYY-MM)."""
    return re.search(rf'<time datetime="{period}">.*?</tr>', html, re.S)[0]


def words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_each_month_lists_its_revisions_newest_first(page_as, sales, finance, customer):
    year, month = last_month()
    usage_record(customer=customer, year=year, month=month, api_usage=900_000, user=finance)
    item = {"customer_id": customer.pk, "year": year, "month": month, "api_usage": 1_250_000}
    usage_record_many(items=[item], user=finance, source="csv", file_name="october.csv")
    html = page_as(sales).get(f"/customers/{customer.pk}").content.decode()
    row = details(html, f"{year}-{month:02d}")
    assert '<details class="revisions">' in row
    assert words(re.search(r"<summary.*?</summary>", row, re.S)[0]) == (
        f"2 changes to {periods.label(year, month)}"
    )
    entries = [words(li) for li in re.findall(r"<li>.*?</li>", row, re.S)]
    assert [re.sub(r", \d+ \w+ \d{4} \d\d:\d\d ?,", ", WHEN,", e) for e in entries] == [
        "900,000 → 1,250,000 by fiona, WHEN, via a CSV upload (october.csv)",
        "new → 900,000 by fiona, WHEN, via the record page",
    ]


def test_a_month_without_revisions_says_so_plainly(page_as, sales, customer):
    year, month = last_month()
    UsageFactory(customer=customer, year=year, month=month, api_usage=5)
    html = page_as(sales).get(f"/customers/{customer.pk}").content.decode()
    assert "<details" not in details(html, f"{year}-{month:02d}")


def test_the_months_and_their_revisions_are_one_query(finance, customer):
    def count() -> tuple[int, list]:
        with CaptureQueriesContext(connection) as queries:
            months = usage_months(customer=customer)
        return len(queries), months

    year, month = last_month()
    usage_record(customer=customer, year=year, month=month, api_usage=1, user=finance)
    few, _ = count()
    y, m = year, month
    for _ in range(12):
        for value in range(2, 6):
            usage_record(customer=customer, year=y, month=m, api_usage=value, user=finance)
        y, m = periods.previous_month(y, m)
    many, months = count()
    assert few == many == 1
    recorded = [m for m in months if m.api_usage is not None]
    assert len(recorded) == 12 and all(len(m.revisions) >= 4 for m in recorded)
    assert [r.new_value for r in recorded[-1].revisions] == [5, 4, 3, 2, 1]
