"""The shape that keeps the unbilled overage list fast at 100,000 customers x 24 months (issue 14;
bench/queries.py measures /bills/unbilled and GET /api/bills/unbilled). Made before it was, the
list asked four correlated subqueries of customers_customerterms per usage row (the terms in
force for its month): about 21 s a page there. Now the versions are joined twice (the version and
whichever version beats it for the month) and the rows of a customer without versions join
nothing. These tests hold that shape (PostgreSQL's plan) and that the join still finds exactly
customers.selectors.customer_terms_of_month's version for every month (both databases).
Queries per request at 10 and 1,000 rows: tests/billing_site/test_queries_per_request.py."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bills.unbilled import unbilled_overage_list
from customers.models import CustomerTerms
from customers.selectors import customer_terms_of_month
from tests.factories import CustomerFactory
from usage.models import Usage

pytestmark = pytest.mark.django_db

# 2024-01 .. 2025-12: every month before, between and after the versions below.
MONTHS = [(2024 + i // 12, i % 12 + 1) for i in range(24)]
# (year, month, limit, unit cost), created out of order on purpose.
VERSIONS = [
    (2025, 2, 300, "0.030000"),
    (2024, 6, 100, "0.010000"),
    (2024, 11, 200, "0.020000"),
]


@pytest.fixture
def customers():
    """One customer with three versions, one with one (from the middle), one with none; usage
    over every limit they ever had in each of 24 months."""
    made = {
        "three": CustomerFactory(name="Three versions"),
        "one": CustomerFactory(name="One version"),
        "none": CustomerFactory(name="No versions", monthly_api_limit=400),
    }
    for year, month, limit, cost in VERSIONS:
        CustomerTerms.objects.create(
            customer=made["three"],
            effective_year=year,
            effective_month=month,
            monthly_api_limit=limit,
            overage_unit_cost=Decimal(cost),
        )
    CustomerTerms.objects.create(
        customer=made["one"],
        effective_year=2024,
        effective_month=9,
        monthly_api_limit=500,
        overage_unit_cost=Decimal("0.050000"),
    )
    Usage.objects.bulk_create(
        Usage(customer=c, year=y, month=m, api_usage=10_000_000)
        for c in made.values()
        for y, m in MONTHS
    )
    return made


def test_every_month_is_listed_once_with_the_terms_in_force(customers):
    listed = [
        (u.customer_id, u.year, u.month, int(u.limit), u.unit_cost) for u in unbilled_overage_list()
    ]
    expected = []
    for c in customers.values():
        for year, month in MONTHS:
            terms = customer_terms_of_month(year=year, month=month, customer_ids=[c.pk])
            t = terms.get(c.pk, c)
            expected.append((c.pk, year, month, t.monthly_api_limit, t.overage_unit_cost))
    # Once each (a join that matched two versions would list a month twice), same terms.
    assert sorted(listed) == sorted(expected)
    limits = {(y, m): lim for cid, y, m, lim, _ in listed if cid == customers["three"].pk}
    assert limits[2024, 1] == 100  # before the first version: the first
    assert limits[2024, 10] == 100 and limits[2024, 11] == 200
    assert limits[2025, 1] == 200 and limits[2025, 12] == 300


def _nodes(plan, in_subplan=False):
    """(node, whether it runs as a subplan of another node) for every node of an EXPLAIN
    (FORMAT JSON) plan."""
    inside = in_subplan or plan.get("Parent Relationship") in ("SubPlan", "InitPlan")
    yield plan, inside
    for child in plan.get("Plans", []):
        yield from _nodes(child, inside)


def _plan(sql):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        [[doc]] = cursor.fetchall()
    return doc[0]["Plan"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
@pytest.mark.parametrize("ask", ["page", "count", "reason"])
def test_terms_are_joined_not_asked_per_usage_row(customers, ask):
    usages = unbilled_overage_list()
    if ask == "reason":
        usages = usages.filter(reason="not_generated")
    with CaptureQueriesContext(connection) as captured:
        # What a list asks: Paginator's count, or a page of rows.
        usages.count() if ask == "count" else list(usages[:50])
    [query] = captured.captured_queries
    terms_scans = [
        inside
        for node, inside in _nodes(_plan(query["sql"]))
        if node.get("Relation Name") == "customers_customerterms"
    ]
    assert terms_scans, "the terms in force are no longer read at all?"
    assert not any(terms_scans), (
        "customers_customerterms is read in a subplan (once per usage row) again"
    )
    assert len(terms_scans) == 2  # the version, and the version that would beat it


def test_half_a_cent_is_the_boundary_on_either_form():
    # PostgreSQL decides "rounds to 0.00" with one NUMERIC product, SQLite in whole millionths
    # (bills.unbilled._PostgresForm): each database runs this, so both forms meet the same rows.
    cases = {
        "4,999 calls at 0.000001": (4_999, "0.000001", False),  # 0.004999: rounds to 0.00
        "5,000 calls at 0.000001": (5_000, "0.000001", True),  # 0.005: half-up to 0.01
        "1 call at 0.004999": (1, "0.004999", False),
        "1 call at 0.005000": (1, "0.005000", True),
        "a trillion free calls": (10**12, "0.000000", False),
        "huge and dear": (9 * 10**15, "99999999.999999", True),
    }
    for name, (over, cost, _) in cases.items():
        customer = CustomerFactory(
            name=name, monthly_api_limit=1_000, overage_unit_cost=Decimal(cost)
        )
        Usage.objects.create(customer=customer, year=2025, month=3, api_usage=1_000 + over)
    listed = {u.customer.name for u in unbilled_overage_list()}
    assert listed == {name for name, (_, _, shown) in cases.items() if shown}
