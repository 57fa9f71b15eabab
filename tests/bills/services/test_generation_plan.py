"""The month end's statement keeps the plan that makes it fast (issue 14: "the indexes and query
shapes that make it fast have tests that fail if they regress"), read from EXPLAIN, not timed:
- the month's usage is read through usage_period_idx for the chunk's customer range, never by
  scanning usage_usage (24 months of it) whole;
- the month's live bills are read once into a hashed subplan, never rescanned per customer
  (as a join, the planner once picked a nested loop over bills_bill: quadratic);
- the skipped customers named per reason come from a top-N sort, not a sort of them all."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.utils import timezone

from bills.services import generation_sql
from tests.factories import MONTH, YEAR

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan"),
]

CUSTOMERS = 3_000


@pytest.fixture
def months_of_usage(db):
    """CUSTOMERS customers with 24 months of usage ending in YEAR-MONTH, analyzed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customer (name, billing_address, billing_email,"
            " monthly_api_limit, overage_unit_cost, require_csm_approval, payment_terms_days,"
            " start_date, created_at, updated_at)"
            " SELECT 'Plan ' || i, '', 'p' || i || '@example.com', 1000, 0.01, false, 30,"
            " DATE '2020-01-01', now(), now() FROM generate_series(1, %s) AS i",
            [CUSTOMERS],
        )
        cursor.execute(
            "INSERT INTO usage_usage (customer_id, year, month, api_usage, created_at,"
            " updated_at)"
            " SELECT c.id, (p - k) / 12, (p - k) %% 12 + 1, 500 + c.id %% 1000, now(), now()"
            " FROM customers_customer AS c CROSS JOIN generate_series(0, 23) AS k"
            " CROSS JOIN (SELECT %s AS p) AS period",
            [YEAR * 12 + MONTH - 1],
        )
        cursor.execute("ANALYZE customers_customer; ANALYZE usage_usage; ANALYZE bills_bill")


def _plan(finance) -> dict:
    params = generation_sql.chunk_params(
        year=YEAR,
        month=MONTH,
        user=finance,
        currency="USD",
        now=timezone.now(),
        named=100,
        size=25_000,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + generation_sql.CHUNK_SQL, {**params, "after": 0})
        plan = cursor.fetchone()[0]
        transaction.set_rollback(True)
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def _nodes(node: dict, parents: tuple = ()):
    yield node, parents
    for child in node.get("Plans", []):
        yield from _nodes(child, (*parents, node))


def test_usage_is_read_through_the_period_index_for_the_chunk(months_of_usage, finance):
    usage = [n for n, _ in _nodes(_plan(finance)) if n.get("Relation Name") == "usage_usage"]
    assert usage, "the statement reads usage"
    for node in usage:
        assert node["Node Type"] != "Seq Scan", node
        assert node.get("Index Name") == "usage_period_idx", node
        assert "customer_id >" in node.get("Index Cond", ""), node


def test_live_bills_are_a_hashed_subplan_read_once(months_of_usage, finance):
    bills = [
        (n, parents)
        for n, parents in _nodes(_plan(finance))
        if n.get("Relation Name") == "bills_bill" and n["Node Type"] != "ModifyTable"
    ]
    assert bills, "the statement reads the month's bills"
    for node, parents in bills:
        assert any(p.get("Parent Relationship") == "SubPlan" for p in (*parents, node)), node
        assert not any(p["Node Type"] == "Nested Loop" for p in parents), node


def test_the_named_customers_come_from_a_top_n_sort(months_of_usage, finance):
    limits = [n for n, _ in _nodes(_plan(finance)) if n["Node Type"] == "Limit"]
    # The chunk's LIMIT and the one per skip reason.
    assert len(limits) >= 2
    sorts = [n for n, _ in _nodes(_plan(finance)) if n["Node Type"] == "Sort"]
    named = [s for s in sorts if any('COLLATE "C"' in key for key in s.get("Sort Key", []))]
    assert named, sorts
