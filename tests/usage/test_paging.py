"""Pages of the usage list (GET /api/usage) read month by month (usage.selectors.usage_pages,
billing_site.core.paging; issue 14): the same rows in the same order as slicing the sorted
queryset, and (PostgreSQL) a page query that walks the customers' name index instead of
sorting the whole month."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing_site.core import paging as core_paging
from billing_site.core.paging import PeriodPages
from customers.models import Customer
from tests.factories import CustomerFactory
from tests.plans import explain, plan_nodes
from usage.models import Usage
from usage.selectors import usage_list, usage_pages

pytestmark = pytest.mark.django_db

# Rows per month, newest first: (year, month) -> how many customers recorded it.
MONTHS = {(2025, 6): 5, (2025, 5): 1, (2025, 3): 2, (2024, 12): 4}
# Names out of id order, two customers sharing one (the id orders them, both ways).
NAMES = ["Delta", "Alpha", "Echo", "Alpha", "Bravo"]


def _book():
    customers = Customer.objects.bulk_create([CustomerFactory.build(name=n) for n in NAMES])
    Usage.objects.bulk_create(
        [
            Usage(customer=c, year=y, month=m, api_usage=1_000 + i)
            for (y, m), size in MONTHS.items()
            for i, c in enumerate(customers[:size])
        ]
    )


def _expected() -> list[tuple]:
    # The list's order, written out: newest month, then name, then the row's id.
    rows = Usage.objects.select_related("customer")
    keys = [(-u.year, -u.month, u.customer.name, u.pk) for u in rows]
    return [pk for *_, pk in sorted(keys)]


@pytest.mark.parametrize("small", [1, 3, 2_000])
def test_every_slice_is_the_sorted_lists(monkeypatch, small):
    # small=1: every month is read on its own (backwards past its middle); 2_000: together.
    monkeypatch.setattr(core_paging, "SMALL_PERIOD", small)
    _book()
    everything = _expected()
    assert len(everything) == sum(MONTHS.values())
    assert [u.pk for u in usage_list()] == everything
    for start in range(len(everything) + 1):
        for size in (1, 2, 3, 5, 50):
            pages = usage_pages(usage_list())
            got = [u.pk for u in pages[start : start + size]]
            assert got == everything[start : start + size], (start, size)
    assert isinstance(usage_pages(usage_list()), PeriodPages)
    assert usage_pages(usage_list()).count() == len(everything)
    assert len(usage_pages(usage_list().filter(year=0))) == 0


def test_another_order_is_not_paged_by_month():
    rows = usage_list().order_by("api_usage")
    assert usage_pages(rows) is rows


def test_api_pages_follow_each_other_across_months(finance, api_as):
    _book()
    client = api_as(finance)
    seen, url = [], "/api/usage?page_size=3"
    while url:
        body = client.get(url).json()
        assert body["count"] == sum(MONTHS.values())
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == _expected()
    recent = {u.pk for u in Usage.objects.filter(year=2025, month__gte=3)}
    seen, url = [], "/api/usage?page_size=2&from=2025-03"
    while url:
        body = client.get(url).json()
        assert body["count"] == len(recent)
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == [pk for pk in _expected() if pk in recent]


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the plan is PostgreSQL's"
)


@needs_postgresql
@pytest.mark.parametrize("start", [0, 950])
def test_a_page_walks_the_name_index_instead_of_sorting_the_month(start):
    # 1,000 customers' usage in one month. Every sort in the plan may hold the page (50 rows),
    # never the month: the first page and the last (read backwards) walk the name index.
    customers = Customer.objects.bulk_create(
        [CustomerFactory.build(name=f"N{(i * 37) % 1000:04d}") for i in range(1_000)]
    )
    Usage.objects.bulk_create(
        [Usage(customer=c, year=2025, month=6, api_usage=5) for c in customers]
    )
    pages = usage_pages(usage_list())
    [(periods, lo, hi, n)] = pages._groups(start, start + 50)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE usage_usage; ANALYZE customers_customer")
        # Priced out, as a large table would have them: the plan is the one 100,000 rows get.
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off")
        with CaptureQueriesContext(connection) as captured:
            page = pages._read(periods, lo, hi, n)
        [query] = [q for q in captured.captured_queries if "usage_usage" in q["sql"]]
        nodes = list(plan_nodes(explain(cursor, query["sql"], analyze=True)))
    assert [u.customer.name for u in page] == sorted(c.name for c in customers)[start : start + 50]
    assert "customers_customer_name_427cefae" in {node.get("Index Name") for node in nodes}
    sorted_rows = [node["Actual Rows"] for node in nodes if node["Node Type"] == "Sort"]
    assert max(sorted_rows, default=0) <= 50, sorted_rows
    assert start == 0 or lo > n - hi  # the last page is read backwards
