"""Queries and time per request of the list pages, the list endpoints and the usage analysis
pages (issue 14, "Build" 4), through django.test.Client, on a data set the benchmark makes in
its own PostgreSQL database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/queries.py
    python bench/queries.py --quick               # 10,000 customers, one run: CI
    python bench/queries.py --customers 20000 --runs 5

The data set is bench/month_end_sql.py's (N customers x 24 months of usage, a third over their
limit in the billed month, a fifth needing CSM approval) with the billed month's bills made by
its raw-SQL floor (drafts, about a third of the customers).

The reference of each request is the same request on the same data set made with
REF_CUSTOMERS (10) customers, measured first in the same run and database (the tables are
emptied between): its queries must be equal (a list that asks more queries with more rows asks
one per row), and its time says what the request costs with next to nothing to read.
Time targets, per request at any size: TARGET_MS (200 ms) for the pages and endpoints that
answer a page of rows or one object: a person clicking through a desk notices a wait past a few
hundred milliseconds, and the issue's concurrent target (p99 under 100 ms at 16 connections
for the dashboard and GET /api/bills) leaves single requests no more than that. ANALYSIS_MS
(1 s) for the usage overview of a month that has ended: it judges every customer's month
against its 6 months before, 700,000 rows at 100,000 customers, and PostgreSQL alone takes
about 0.6 s on this machine to read and sort those rows by customer (EXPLAIN ANALYZE of the
medians' query), so 1 s is within 2x of that read. The exports (CSV) answer every row:
reported, with no target.

Exit status: 0 done (missed targets are in the table; `queries_equal` in the JSON says whether
every count matched); 1 a request did not answer 200; 2 no usable DATABASE_URL.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import (  # noqa: E402
    render,
    row,
    scratch_database,
    server_url,
    setup_django,
    spread,
    write_results,
)

TARGET_CUSTOMERS = 100_000
REF_CUSTOMERS = 10
TARGET_MS = 200.0
ANALYSIS_MS = 1_000.0
CUSTOMER = 3  # over its limit in the billed month: it has a bill (ids from 1 in both sizes)
BULK = 500  # a bulk action's most ids (SPEC "JSON API")


@dataclass(frozen=True)
class Request:
    """One request: `role` ("finance", "sales") asks `url` ({year}, {month}, {customer},
    {bill}, {usage} filled in); `ids`: POST the first BULK bills' ids as JSON; `target_ms`:
    its time target (None: it answers every row, reported only)."""

    figure: str
    role: str
    url: str
    ids: bool = False
    target_ms: float | None = TARGET_MS


PERIOD = "year={year}&month={month}"
REQUESTS = (
    Request("dashboard", "finance", "/dashboard"),
    Request("dashboard, largest amount first", "finance", "/dashboard?sort=amount"),
    Request("dashboard, waiting for me (Sales)", "sales", "/dashboard?awaiting=me"),
    Request("queue count badge (Sales)", "sales", "/dashboard/awaiting"),
    Request("unbilled overage page", "finance", "/bills/unbilled"),
    Request("bulk approve confirmation, 500 bills", "sales", "/bills/bulk/approve?{bulk}"),
    Request("customers page", "finance", "/customers"),
    Request("customers page, search", "finance", "/customers?q=customer+00000"),
    Request("customer page (chart, suspicious months)", "finance", "/customers/{customer}"),
    Request("bill page", "finance", "/bills/{bill}"),
    Request("usage overview, billed month", "finance", f"/usage?{PERIOD}", target_ms=ANALYSIS_MS),
    Request("usage overview, month in progress", "finance", "/usage"),
    Request("record usage page", "finance", "/usage/record"),
    Request("customer suggestions, a name", "finance", "/customers/suggest?q=customer+00000"),
    Request("customer suggestions, no match", "finance", "/customers/suggest?q=zzz"),
    Request("GET /api/customers", "finance", "/api/customers"),
    Request("GET /api/customers/{id}", "finance", "/api/customers/{customer}"),
    Request("GET /api/usage", "finance", "/api/usage"),
    Request("GET /api/usage, one month", "finance", f"/api/usage?{PERIOD}"),
    Request("GET /api/usage.csv, one month", "finance", f"/api/usage.csv?{PERIOD}", target_ms=None),
    Request(
        "GET /api/usage/summary, billed month",
        "finance",
        f"/api/usage/summary?{PERIOD}",
        target_ms=ANALYSIS_MS,
    ),
    Request("GET /api/usage/summary, month in progress", "finance", "/api/usage/summary"),
    Request("GET /api/usage/{id}/revisions", "finance", "/api/usage/{usage}/revisions"),
    Request("GET /api/bills?page_size=50", "finance", "/api/bills?page_size=50"),
    Request("GET /api/bills?status=draft", "finance", "/api/bills?status=draft&page_size=50"),
    Request("GET /api/bills?awaiting=me (Sales)", "sales", "/api/bills?awaiting=me"),
    Request("GET /api/bills.csv", "finance", "/api/bills.csv", target_ms=None),
    Request("GET /api/bills/unbilled", "finance", "/api/bills/unbilled"),
    Request("GET /api/bills/awaiting (Sales)", "sales", "/api/bills/awaiting"),
    Request("GET /api/bills/{id}", "finance", "/api/bills/{bill}"),
    Request("POST bulk approve preview, 500 ids", "sales", "/api/bills/bulk/approve/preview", True),
    Request("POST bulk send preview, 500 ids", "finance", "/api/bills/bulk/send/preview", True),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, help="customers (default 100,000; quick 10,000)")
    parser.add_argument("--runs", type=int, help="timed runs of each request (default 3; quick 1)")
    parser.add_argument("--quick", action="store_true", help="the CI size: 10,000 and one run")
    parser.add_argument("--results-dir", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    args.customers = args.customers or (10_000 if args.quick else TARGET_CUSTOMERS)
    args.runs = args.runs or (1 if args.quick else 3)
    return args


def data_set(customers: int, year: int, month: int, finance) -> dict:
    """Empty the tables, then make the data set at `customers` (ids from 1) with the billed
    month's bills; returns the ids the URLs name."""
    import month_end_sql as sql
    from django.conf import settings
    from django.db import connection

    from billing_site.core.maintenance import maintenance

    with maintenance(), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE bills_billaction, bills_bill, usage_usage, customers_customer "
            "RESTART IDENTITY CASCADE"
        )
    with connection.cursor() as cursor:
        sql.fill(cursor, customers=customers, year=year, month=month)
        made = sql.floor_insert(
            cursor, year=year, month=month, user=finance, currency=settings.CURRENCY
        )
        cursor.execute("ANALYZE bills_bill; ANALYZE bills_billaction")
        cursor.execute("SELECT id FROM bills_bill ORDER BY id LIMIT %s", [BULK])
        bills = [r[0] for r in cursor.fetchall()]
        cursor.execute("SELECT min(id) FROM usage_usage WHERE customer_id = %s", [CUSTOMER])
        usage = cursor.fetchone()[0]
    return {"bills": made, "bill_ids": bills, "usage": usage}


def clients(users: dict) -> dict:
    """{(role, api): client}: the pages logged in, the API with the user's bearer token."""
    from django.test import Client
    from rest_framework.test import APIClient

    made = {}
    for role, user in users.items():
        page = Client()
        page.force_login(user)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {user.session_token}")
        made[(role, False)], made[(role, True)] = page, api
    return made


def ask(client, request: Request, url: str, ids: list[int]) -> int:
    """One request, its streamed body read to the end; returns the status code."""
    response = client.post(url, {"ids": ids}, format="json") if request.ids else client.get(url)
    if response.streaming:
        for _ in response.streaming_content:
            pass
    return response.status_code


def measure_size(made: dict, runs: int, year: int, month: int, world: dict) -> dict:
    """{figure: {"queries", "ms": [...], "status"}} for every request at the current size:
    one warm-up request, one counted, then `runs` timed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bulk = "&".join(f"ids={pk}" for pk in world["bill_ids"]) + "&next=/dashboard"
    found = {}
    for request in REQUESTS:
        url = request.url.format(
            year=year,
            month=month,
            customer=CUSTOMER,
            bill=world["bill_ids"][0],
            usage=world["usage"],
            bulk=bulk,
        )
        client = made[(request.role, url.startswith("/api/"))]
        status = ask(client, request, url, world["bill_ids"])
        with CaptureQueriesContext(connection) as captured:
            ask(client, request, url, world["bill_ids"])
        queries = len(captured)  # now: it reads the log, which the next request empties
        times = []
        for _ in range(runs):
            begin = time.perf_counter()
            ask(client, request, url, world["bill_ids"])
            times.append((time.perf_counter() - begin) * 1000)
        found[request.figure] = {"queries": queries, "ms": times, "status": status}
    return found


def measure(args: argparse.Namespace) -> dict:
    """The reference size, then N customers: the results document (without the table)."""
    from django.core.management import call_command

    from accounts.models import Role, User
    from billing_site.core import periods

    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    year, month = periods.last_ended_month()
    users = {
        "finance": User.objects.create_user(name="bench-fiona", role=Role.FINANCE, password="x"),
        "sales": User.objects.create_user(name="bench-sam", role=Role.SALES, password="x"),
    }
    made = clients(users)
    world = data_set(REF_CUSTOMERS, year, month, users["finance"])
    reference = measure_size(made, args.runs, year, month, world)
    fill_start = time.perf_counter()
    world = data_set(args.customers, year, month, users["finance"])
    fill_seconds = time.perf_counter() - fill_start
    measured = measure_size(made, args.runs, year, month, world)
    return {
        "customers": args.customers,
        "reference_customers": REF_CUSTOMERS,
        "runs": args.runs,
        "quick": args.quick,
        "period": f"{year}-{month:02d}",
        "bills": world["bills"],
        "setup_seconds": round(time.perf_counter() - start, 2),
        "fill_seconds": round(fill_seconds, 2),
        "cpus": os.cpu_count(),
        "reference": reference,
        "measured": measured,
    }


def table(doc: dict) -> tuple[str, list[dict]]:
    """The printed table and its rows: per request, its queries and time at N customers beside
    the same at the reference size."""
    rows = []
    for request in REQUESTS:
        big, ref = doc["measured"][request.figure], doc["reference"][request.figure]
        big_ms, ref_ms = statistics.median(big["ms"]), statistics.median(ref["ms"])
        equal = big["queries"] == ref["queries"]
        target = request.target_ms
        fast = None if target is None else big_ms < target
        rows.append(
            row(
                request.figure,
                f"{big['queries']} queries, {spread(big['ms'], 'ms', 1)}",
                reference=f"{ref['queries']} queries, {ref_ms:.1f} ms",
                ratio=f"{big_ms / ref_ms:.1f}x the time",
                target="equal queries" + ("" if target is None else f", < {target:g} ms"),
                met=equal and fast is not False,
            )
        )
    title = (
        f"Queries and time per request on PostgreSQL, {doc['customers']:,} customers x 24 "
        f"months, {doc['bills']:,} bills of {doc['period']}, against the same requests at "
        f"{doc['reference_customers']} customers; median of {doc['runs']} run(s) (min, max); "
        f"{doc['cpus']} CPUs; set-up {doc['setup_seconds']} s"
    )
    return render(title, rows), rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = server_url()
    if server is None:
        print("bench/queries.py needs DATABASE_URL=postgres://... (a server)", file=sys.stderr)
        return 2
    with scratch_database(server, "queries") as url:
        setup_django(url)
        from django.conf import settings

        # Pages link static files; without collectstatic there is no manifest to name them by.
        # Plain names cost the same as hashed ones: the figures are the views'.
        static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
        settings.STORAGES = {**settings.STORAGES, "staticfiles": static}
        doc = measure(args)
    text, rows = table(doc)
    doc["title"], doc["rows"] = text.splitlines()[0], rows
    doc["queries_equal"] = all(
        doc["measured"][r.figure]["queries"] == doc["reference"][r.figure]["queries"]
        for r in REQUESTS
    )
    bad = [
        f"{r.figure}: {size[r.figure]['status']}"
        for size in (doc["reference"], doc["measured"])
        for r in REQUESTS
        if size[r.figure]["status"] != 200
    ]
    doc["not_200"] = bad
    print(text)
    print(f"\nqueries equal at both sizes: {'yes' if doc['queries_equal'] else 'NO'}")
    if bad:
        print("requests that did not answer 200: " + "; ".join(bad))
    print(f"results: {write_results('queries', doc, args.results_dir)}")
    print(json.dumps({"queries_equal": doc["queries_equal"]}))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
