"""The query shapes that keep the usage overview fast at 100,000 customers x 24 months (issue
14; bench/queries.py measures it): made before they were, the month's growth list asked a
correlated subquery per row (0.9 s there) and the suspicious months took two passes over the
months (2.8 s). Each selector here must stay one query of that shape."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import CustomerFactory
from usage import analysis
from usage.models import Usage

pytestmark = pytest.mark.django_db

YEAR, MONTH = 2025, 3


@pytest.fixture
def months():
    """Three customers with six months of history and the month: one grows, one is new."""
    rows = []
    for i in range(3):
        customer = CustomerFactory(monthly_api_limit=1_000)
        for back in range(1 if i == 2 else 7):
            year, month = (
                (YEAR, MONTH - back) if MONTH - back > 0 else (YEAR - 1, MONTH - back + 12)
            )
            rows.append(Usage(customer=customer, year=year, month=month, api_usage=500 + i * 400))
    Usage.objects.bulk_create(rows)


def test_growth_joins_the_month_before_in_one_select(months):
    with CaptureQueriesContext(connection) as captured:
        grown = analysis.usage_increases(year=YEAR, month=MONTH)
    [query] = captured.captured_queries
    sql = query["sql"].upper()
    assert sql.count("SELECT") == 1, "a subquery per row is back: " + query["sql"]
    assert "LEFT OUTER JOIN" in sql
    assert [c.previous_usage for c in grown] == [None]  # the new customer grew from nothing


def test_suspicious_months_and_the_count_not_judged_are_one_query(months):
    with CaptureQueriesContext(connection) as captured:
        month = analysis.usage_anomalies_of_month(year=YEAR, month=MONTH)
    assert len(captured) == 1, [q["sql"] for q in captured.captured_queries]
    assert month.not_judged == 1 and month.count == 0
