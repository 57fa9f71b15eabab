"""The query shapes that keep the usage overview fast at 100,000 customers x 24 months (issue
14; bench/queries.py measures it): made before they were, the month's growth list asked a
correlated subquery per row (0.9 s there) and the suspicious months took two passes over the
months (2.8 s). Each selector here must stay one query of that shape."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import CustomerFactory
from tests.plans import explain, plan_nodes
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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite takes medians in Python")
def test_the_months_medians_sort_each_history_once_grouped_by_customer_id(months):
    # The lower and upper middle values are two PERCENTILE_DISC over the same rows, order and
    # filter, which PostgreSQL computes from one sort per customer (a DESC for the upper one was
    # a second sort); the rows are grouped by the customer's id alone, the customer's name and
    # limit read after grouping (a join before it made every row wider to sort): 0.89 -> 0.54 s
    # at 100,000 customers x 24 months (docs/decisions.md).
    with CaptureQueriesContext(connection) as captured:
        analysis.usage_anomalies_of_month(year=YEAR, month=MONTH)
    [query] = captured.captured_queries
    sql = query["sql"]
    orders = [part.split(")")[0] for part in sql.split("WITHIN GROUP (ORDER BY ")[1:]]
    assert len(orders) >= 2 and set(orders) == {'"usage_usage"."api_usage"'}, sql  # none DESC
    with connection.cursor() as cursor:
        plan = explain(cursor, sql)
    assert plan["Node Type"] == "Aggregate" and plan["Group Key"] == ["usage_usage.customer_id"]
    below = [p for p in plan["Plans"] if p.get("Parent Relationship") == "Outer"]
    joined = {n.get("Relation Name") for p in below for n in plan_nodes(p)}
    assert "customers_customer" not in joined, "the customer is joined before grouping"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL plan")
def test_customers_without_usage_test_a_hash_of_the_months_customers(months):
    # NOT IN (the month's customer ids): one hash of the ids, a lookup per customer. With NOT
    # EXISTS the planner walked the name index for the LIMIT and probed the usage index per
    # customer: 138 ms for a month in progress at 100,000 customers, 46 ms so.
    CustomerFactory(monthly_api_limit=1_000)  # under contract, nothing recorded
    with CaptureQueriesContext(connection) as captured:
        count, shown = analysis.customers_without_usage(year=YEAR, month=MONTH)
    [query] = captured.captured_queries
    assert count == 1 and len(shown) == 1
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE usage_usage; ANALYZE customers_customer")
        cursor.execute("SET LOCAL enable_seqscan = off")  # the plan a large table gets
        nodes = list(plan_nodes(explain(cursor, query["sql"])))
    filters = " ".join(n.get("Filter", "") for n in nodes)
    assert "hashed SubPlan" in filters, nodes
    assert not [n for n in nodes if n.get("Join Type") == "Anti"], nodes
