"""Pages of the bill list in its default order, read period by period (bills.paging; issue 14):
the same rows in the same order as slicing the sorted queryset, the same number of queries for
10 bills as for 1,000, and (PostgreSQL) a page query that walks indexes instead of sorting
every bill of the list."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing_site.core import paging as core_paging
from billing_site.core import periods
from bills.filters import BillFilterSet
from bills.paging import NarrowPages, PeriodPages, bill_pages
from bills.selectors import bill_list
from bills.services import bill_generate
from customers.models import Customer
from tests.factories import CustomerFactory, htmx
from tests.plans import explain, plan_nodes
from usage.models import Usage

# Bills per period made by months_of_bills: the newest month first.
SIZES = (5, 1, 0, 2, 4)


def months_of_bills(finance, sizes=SIZES) -> list[tuple[int, int]]:
    """Customers "P00".. (names out of id order) with overage in the last len(sizes) ended
    months: sizes[k] of them billed k months before the last ended one. Returns the months."""
    year, month = periods.last_ended_month()
    names = [f"P{(i * 7) % max(sizes):02d}-{i}" for i in range(max(sizes))]
    customers = Customer.objects.bulk_create([CustomerFactory.build(name=n) for n in names])
    months = []
    for back, size in enumerate(sizes):
        y, m = divmod(year * 12 + month - 1 - back, 12)
        months.append((y, m + 1))
        Usage.objects.bulk_create(
            [Usage(customer=c, year=y, month=m + 1, api_usage=2_000_000) for c in customers[:size]]
        )
        bill_generate(year=y, month=m + 1, user=finance)
    return months


@pytest.mark.parametrize("small", [1, 3, 2_000])
def test_every_slice_is_the_sorted_querysets(finance, monkeypatch, small):
    # small=1: every period is read on its own (backwards past its middle); 2_000: together.
    monkeypatch.setattr(core_paging, "SMALL_PERIOD", small)
    months_of_bills(finance)
    everything = [b.pk for b in bill_list()]
    assert len(everything) == sum(SIZES)
    for start in range(len(everything) + 1):
        for size in (1, 2, 3, 5, 50):
            pages = PeriodPages(bill_list())
            got = [b.pk for b in pages[start : start + size]]
            assert got == everything[start : start + size], (start, size)
    assert PeriodPages(bill_list()).count() == len(everything)
    assert len(PeriodPages(bill_list().filter(year=0))) == 0


def test_only_the_default_order_is_paged_by_period(finance, rf):
    assert isinstance(bill_pages(bill_list()), PeriodPages)
    months_of_bills(finance)
    for sort in ("amount", "customer", "oldest"):
        filtered = BillFilterSet(data={"sort": sort}, queryset=bill_list(), request=rf.get("/"))
        pages = bill_pages(filtered.qs)
        assert isinstance(pages, NarrowPages) and pages.count() == sum(SIZES)
        everything = [b.pk for b in filtered.qs]
        for start in range(len(everything)):
            got = [b.pk for b in pages[start : start + 3]]
            assert got == everything[start : start + 3], (sort, start)


def test_api_pages_follow_each_other_across_periods(finance, api_as):
    months_of_bills(finance)
    client = api_as(finance)
    seen, url = [], "/api/bills?page_size=3"
    while url:
        body = client.get(url).json()
        assert body["count"] == sum(SIZES)
        seen += [(b["year"], b["month"], b["customer_name"], b["id"]) for b in body["results"]]
        url = body["next"]
    newest_first = sorted(seen, key=lambda r: (-r[0], -r[1], r[2], -r[3]))
    assert seen == newest_first and len(set(seen)) == sum(SIZES)
    assert [b["id"] for b in client.get("/api/bills?page_size=50").json()["results"]] == [
        r[3] for r in seen
    ]


def _queries(run) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured)


def test_list_queries_are_as_many_for_1000_bills_as_for_10(
    finance, sales, api_as, page_as, many_bills
):
    api, page = api_as(finance), page_as(sales)

    def counts():
        return (
            _queries(lambda: api.get("/api/bills?page_size=50")),
            _queries(lambda: api.get("/api/bills?page_size=5&page=2&status=draft")),
            _queries(lambda: page.get("/dashboard?awaiting=")),
            _queries(lambda: page.get("/dashboard?page=3&per_page=5", **htmx("bill-index"))),
        )

    many_bills(15)
    few = counts()
    many_bills(1_000 - 15)
    assert counts() == few


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the plan is PostgreSQL's"
)


def _explained(read) -> list[dict]:
    """The nodes of the EXPLAIN ANALYZE plan of the one query `read()` runs, with sequential
    scans and sorts priced out so that the plan is the one a large table gets (a table this
    small is cheaper to read whole and sort): were there no index order for the query, it
    would still sort every row."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE bills_bill; ANALYZE customers_customer")
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off")
        with CaptureQueriesContext(connection) as captured:
            read()
        [query] = [q for q in captured.captured_queries if "bills_bill" in q["sql"]]
        plan = explain(cursor, query["sql"], analyze=True)
    return list(plan_nodes(plan))


@needs_postgresql
@pytest.mark.parametrize("start", [0, 950])
def test_a_page_walks_the_indexes_instead_of_sorting_the_month(finance, many_bills, start):
    # 1,000 bills in one month. Every sort in the plan may hold the page (50 rows), never the
    # month: the first page and the last (read backwards) walk the name index. (A page in the
    # middle of a large month still sorts the rows before it: billing_site.core.paging.)
    many_bills(1_000)
    pages = PeriodPages(bill_list())
    [(year, month, rows)] = pages.periods
    [(periods_, lo, hi, n)] = pages._groups(start, start + 50)
    nodes = _explained(lambda: pages._read(periods_, lo, hi, n))
    scans = {n.get("Index Name") for n in nodes}
    # The customers in name order, each probed for its bill of the month.
    assert "customers_customer_name_427cefae" in scans, scans
    sorted_rows = [n["Actual Rows"] for n in nodes if n["Node Type"] == "Sort"]
    assert max(sorted_rows, default=0) <= 50, sorted_rows
    assert rows == 1_000 and (start == 0 or lo > n - hi)


@needs_postgresql
@pytest.mark.parametrize(
    ("sort", "index"), [("amount", "bill_amount_idx"), ("oldest", "bill_oldest_idx")]
)
def test_a_sorted_page_reads_its_index_instead_of_sorting_every_bill(
    finance, many_bills, rf, sort, index
):
    many_bills(1_000)
    filtered = BillFilterSet(data={"sort": sort}, queryset=bill_list(), request=rf.get("/"))
    nodes = _explained(lambda: bill_pages(filtered.qs)[900:950])
    assert index in {n.get("Index Name") for n in nodes}
    sorted_rows = [n["Actual Rows"] for n in nodes if n["Node Type"] == "Sort"]
    assert max(sorted_rows, default=0) <= 50, sorted_rows
