"""Benchmarks: `make bench`. Runs against a throwaway database (PostgreSQL when DATABASE_URL is
set, else SQLite) and prints a table of wall-clock times and query counts.

    make bench                                   # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/billing make bench
    BENCH_CUSTOMERS=50000 make bench             # a bigger month end

Speed targets live here, never in timed tests. Each scenario also reports how many SQL queries it
ran, which is what the tests hold constant.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_site.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-insecure-key-0123456789abcdefghijklmnop")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    override_settings,
    setup_databases,
    setup_test_environment,
    teardown_databases,
)

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "10000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
RESULTS = ROOT / "bench" / "results"


def timed(fn, repeat=REPEAT):
    """Median wall time in ms over `repeat` runs, and the query count of the last run."""
    times, queries = [], 0
    for _ in range(repeat):
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
        queries = len(ctx.captured_queries)
    return statistics.median(times), queries


def make_world(n: int):
    from accounts.models import Role, User
    from billing_site.core import periods
    from customers.models import Customer
    from usage.models import Usage

    finance = User.objects.create_user(name="bench-fin", role=Role.FINANCE, password="x" * 12)
    sales = User.objects.create_user(name="bench-sales", role=Role.SALES, password="x" * 12)
    year, month = periods.last_ended_month()
    Customer.objects.bulk_create(
        [
            Customer(
                name=f"Bench customer {i:06d}",
                billing_email=f"ap{i}@bench.example",
                monthly_api_limit=1_000_000 + i,
                overage_unit_cost=Decimal("0.0025"),
                require_csm_approval=i % 4 == 0,
                start_date=date(2020, 1, 1),
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    ids = list(Customer.objects.values_list("id", flat=True))
    Usage.objects.bulk_create(
        [
            Usage(customer_id=cid, year=year, month=month, api_usage=900_000 + (k % 7) * 100_000)
            for k, cid in enumerate(ids)
        ],
        batch_size=2000,
    )
    return finance, sales, year, month, ids


def scenarios(finance, sales, year, month, ids) -> list[dict]:
    from django.test import Client

    from bills.models import Bill
    from bills.services import bill_generate

    rows = []

    # Month-end generation: once for real (bulk insert), then idempotent re-runs.
    with CaptureQueriesContext(connection) as ctx:
        start = time.perf_counter()
        result = bill_generate(year=year, month=month, user=finance)
        first_ms = (time.perf_counter() - start) * 1000
    rows.append(
        {
            "scenario": f"generate a month, {len(ids):,} customers ({result.created:,} bills)",
            "ms": first_ms,
            "queries": len(ctx.captured_queries),
        }
    )
    ms, q = timed(lambda: bill_generate(year=year, month=month, user=finance))
    rows.append({"scenario": "re-run the same month (all skipped)", "ms": ms, "queries": q})

    api = Client(HTTP_AUTHORIZATION=f"Bearer {finance.session_token}")
    html = Client()
    html.force_login(finance)
    bill_id = Bill.objects.order_by("id").values_list("id", flat=True).first()

    def get(client, url, **extra):
        def call():
            response = client.get(url, **extra)
            assert response.status_code == 200, (url, response.status_code)

        return call

    def get_all(client, url):
        def call():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            b"".join(response.streaming_content)

        return call

    plan = [
        ("GET /api/bills?page_size=500", get(api, "/api/bills?page_size=500")),
        (
            "GET /api/bills?status=draft&page_size=50",
            get(api, "/api/bills?status=draft&page_size=50"),
        ),
        (f"GET /api/bills/{bill_id}", get(api, f"/api/bills/{bill_id}")),
        ("GET /api/customers?page_size=500", get(api, "/api/customers?page_size=500")),
        ("GET /api/usage?page_size=500", get(api, "/api/usage?page_size=500")),
        ("GET /api/bills.csv (every bill, streamed)", get_all(api, "/api/bills.csv")),
        ("GET /api/usage.csv (every usage row, streamed)", get_all(api, "/api/usage.csv")),
        ("GET /dashboard (first page)", get(html, "/dashboard")),
        (
            "GET /dashboard?status=draft (htmx fragment)",
            get(html, "/dashboard?status=draft", HTTP_HX_REQUEST="true"),
        ),
        ("GET /customers", get(html, "/customers")),
        (f"GET /usage?year={year}&month={month}", get(html, f"/usage?year={year}&month={month}")),
        (
            f"GET /api/usage/summary?year={year}&month={month}",
            get(api, f"/api/usage/summary?year={year}&month={month}"),
        ),
        (f"GET /bills/{bill_id}", get(html, f"/bills/{bill_id}")),
    ]
    for name, call in plan:
        try:
            ms, q = timed(call)
        except Exception as exc:  # a page not built yet is reported, not hidden
            rows.append({"scenario": name, "ms": None, "queries": None, "error": repr(exc)[:120]})
            continue
        rows.append({"scenario": name, "ms": ms, "queries": q})

    # Usage batch: 10,000 items in one all-or-nothing request (upsert).
    batch = [
        {"customer_id": cid, "year": year, "month": month, "api_usage": 1_200_000 + k}
        for k, cid in enumerate(ids[:10_000])
    ]
    body = json.dumps(batch)

    def post_usage():
        response = api.post("/api/usage", body, content_type="application/json")
        assert response.status_code == 200, response.content[:300]

    try:
        ms, q = timed(post_usage, repeat=3)
        rows.append({"scenario": f"POST /api/usage, {len(batch):,} items", "ms": ms, "queries": q})
    except Exception as exc:
        rows.append(
            {"scenario": "POST /api/usage", "ms": None, "queries": None, "error": repr(exc)[:120]}
        )
    return rows


def main() -> int:
    setup_test_environment()
    settings.DEBUG = False
    # Pages link static files; the manifest storage would need collectstatic first.
    override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        world = make_world(CUSTOMERS)
        rows = scenarios(*world)
    finally:
        teardown_databases(old, verbosity=0)
    vendor = connection.vendor
    lines = [
        f"Benchmarks on {vendor}, {CUSTOMERS:,} customers, median of {REPEAT} runs "
        f"({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores)",
        "",
        "| scenario | median ms | queries |",
        "| --- | ---: | ---: |",
    ]
    for row in rows:
        ms = "error: " + row["error"] if row.get("error") else f"{row['ms']:.1f}"
        queries = "" if row["queries"] is None else str(row["queries"])
        lines.append(f"| {row['scenario']} | {ms} | {queries} |")
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"latest-{vendor}.md").write_text(text + "\n")
    return 1 if any(row.get("error") for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
