"""Month end beside its references (issue 14, "Build" 1): the real service, the raw-SQL floor
and the per-customer loop, on a data set the benchmark makes in its own PostgreSQL database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/month_end.py
    python bench/month_end.py --quick               # 10,000 customers, one run: CI
    python bench/month_end.py --customers 100000 --runs 3

DATABASE_URL names the server (its database is only used to reach it): the benchmark creates
billing_bench_<pid>, migrates it, fills it (bench/month_end_sql.py), measures, prints a table,
writes bench/results/month_end-<timestamp>.json and drops the database, also on error.
Exit status: 0 done; 1 the floor and the service made different numbers of bills; 2 no usable
DATABASE_URL. Missed targets are reported in the table, not in the exit status.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import (  # noqa: E402  # noqa: E402
    peak_mb,
    peak_reset,
    render,
    row,
    scratch_database,
    server_url,
    setup_django,
    spread,
    write_results,
)

# Issue 14's targets at 100,000 customers.
TARGET_CUSTOMERS = 100_000
TARGET_SECONDS = 3.0
TARGET_LOOP_RATIO = 30.0
TARGET_FLOOR_RATIO = 2.0
TARGET_PEAK_MB = 300.0
LOOP_SAMPLE = 5_000
QUICK_LOOP_SAMPLE = 300


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, help="customers (default 100,000; quick 10,000)")
    parser.add_argument("--runs", type=int, help="runs of each figure (default 3; quick 1)")
    parser.add_argument("--quick", action="store_true", help="the CI size: 10,000 and one run")
    parser.add_argument("--results-dir", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    args.customers = args.customers or (10_000 if args.quick else TARGET_CUSTOMERS)
    args.runs = args.runs or (1 if args.quick else 3)
    args.sample = min(args.customers, QUICK_LOOP_SAMPLE if args.quick else LOOP_SAMPLE)
    return args


def loop_month_end(*, customer_ids: list[int], year: int, month: int, user) -> int:
    """Reference B: the per-customer loop a straightforward implementation would write, one
    customer at a time as bills.services.creation.bill_create makes one bill (live-bill check,
    usage, terms, compute, Bill.save() with its history through bill_save and the post-save
    signal), in one transaction. Returns the bills made."""
    from django.db import transaction

    from billing_site.core import periods
    from bills.models import Action, Bill
    from bills.services.creation import draft_bill
    from bills.services.history import HistoryEntry, bill_save
    from customers.models import Customer
    from customers.selectors import customer_terms_for
    from usage.selectors import usage_of_month

    made = 0
    with transaction.atomic():
        for customer in Customer.objects.filter(pk__in=customer_ids).order_by("pk"):
            if not periods.contract_covers(customer.start_date, customer.end_date, year, month):
                continue
            if Bill.objects.live().filter(customer=customer, year=year, month=month).exists():
                continue
            api_usage = usage_of_month(customer_id=customer.pk, year=year, month=month)
            terms = customer_terms_for(customer=customer, year=year, month=month)
            bill = draft_bill(
                customer_id=customer.pk, year=year, month=month, api_usage=api_usage, terms=terms
            )
            if bill.overage_units == 0 or bill.overage_amount == 0:
                continue
            bill_save(bill=bill, entry=HistoryEntry(stakeholder=user, action=Action.CREATED))
            made += 1
    return made


def measure(args: argparse.Namespace) -> dict:
    """Make the data set, then time each figure args.runs times, resetting between runs.
    Returns the results document (what the JSON file holds, without the table)."""
    import month_end_sql as sql
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Role, User
    from billing_site.core import periods
    from bills.services import bill_generate

    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    year, month = periods.last_ended_month()
    with connection.cursor() as cursor:
        sql.fill(cursor, customers=args.customers, year=year, month=month)
    user = User.objects.create_user(name="bench-finance", role=Role.FINANCE, password="x" * 16)
    setup_seconds = time.perf_counter() - start

    service: dict = {"seconds": [], "peak_rss_mb": [], "bills": [], "totals": []}
    for _ in range(args.runs):
        method = peak_reset()
        begin = time.perf_counter()
        result = bill_generate(year=year, month=month, user=user)
        service["seconds"].append(time.perf_counter() - begin)
        service["peak_rss_mb"].append(round(peak_mb(method), 1))
        service["memory_method"] = method
        with connection.cursor() as cursor:
            count, total = sql.month_bills(cursor, year=year, month=month)
            if args.sample < args.customers:
                cursor.execute(
                    "SELECT count(*) FROM bills_bill WHERE customer_id <= %s", [args.sample]
                )
                service["sample_bills"] = cursor.fetchone()[0]
            else:
                service["sample_bills"] = count
        service["bills"].append(result.created)
        service["totals"].append(total)
        sql.reset(connection, year=year, month=month)

    floor: dict = {"seconds": [], "bills": [], "totals": []}
    for _ in range(args.runs):
        with connection.cursor() as cursor:
            begin = time.perf_counter()
            made = sql.floor_insert(
                cursor, year=year, month=month, user=user, currency=settings.CURRENCY
            )
            floor["seconds"].append(time.perf_counter() - begin)
            floor["bills"].append(made)
            floor["totals"].append(sql.month_bills(cursor, year=year, month=month)[1])
        sql.reset(connection, year=year, month=month)

    sample_ids = list(range(1, args.sample + 1))
    scale = args.customers / args.sample
    loop: dict = {"sample": args.sample, "scale": scale, "seconds": [], "bills": []}
    for _ in range(args.runs):
        begin = time.perf_counter()
        made = loop_month_end(customer_ids=sample_ids, year=year, month=month, user=user)
        loop["seconds"].append(time.perf_counter() - begin)
        loop["bills"].append(made)
        sql.reset(connection, year=year, month=month)
    loop["scaled_seconds"] = [s * scale for s in loop["seconds"]]

    return {
        "customers": args.customers,
        "runs": args.runs,
        "quick": args.quick,
        "period": f"{year}-{month:02d}",
        "setup_seconds": round(setup_seconds, 2),
        "cpus": os.cpu_count(),
        "service": service,
        "floor": floor,
        "loop": loop,
    }


def table(doc: dict) -> tuple[str, list[dict]]:
    """The printed table and its rows. Time targets scale linearly with the customer count;
    the memory target applies at 100,000 customers only."""
    n = doc["customers"]
    at_target = n == TARGET_CUSTOMERS
    service = statistics.median(doc["service"]["seconds"])
    floor = statistics.median(doc["floor"]["seconds"])
    loop = statistics.median(doc["loop"]["scaled_seconds"])
    seconds_target = TARGET_SECONDS * n / TARGET_CUSTOMERS
    peak = statistics.median(doc["service"]["peak_rss_mb"])
    sample = f"{doc['loop']['sample']:,}-customer sample x {doc['loop']['scale']:g}"
    rows = [
        row(
            f"month end, bill_generate ({doc['service']['bills'][0]:,} bills)",
            spread(doc["service"]["seconds"], "s"),
            target=f"< {seconds_target:g} s" + ("" if at_target else " (3 s scaled)"),
            met=service < seconds_target,
        ),
        row(
            "vs per-customer loop (save each bill)",
            f"{service:.2f} s",
            reference=f"{spread(doc['loop']['scaled_seconds'], 's')}, {sample}",
            ratio=f"{loop / service:.1f}x faster",
            target=f">= {TARGET_LOOP_RATIO:g}x faster",
            met=loop / service >= TARGET_LOOP_RATIO,
        ),
        row(
            "vs raw-SQL floor (INSERT ... SELECT)",
            f"{service:.2f} s",
            reference=f"{spread(doc['floor']['seconds'], 's')}, {doc['floor']['bills'][0]:,} bills",
            ratio=f"{service / floor:.2f}x the floor",
            target=f"<= {TARGET_FLOOR_RATIO:g}x the floor",
            met=service / floor <= TARGET_FLOOR_RATIO,
        ),
        row(
            f"month end peak RSS ({doc['service']['memory_method']})",
            spread(doc["service"]["peak_rss_mb"], "MB", 0),
            target=f"< {TARGET_PEAK_MB:g} MB" + ("" if at_target else " (at 100k only)"),
            met=peak < TARGET_PEAK_MB if at_target else None,
        ),
    ]
    title = (
        f"Month end on PostgreSQL, {n:,} customers x 24 months, {doc['period']}, median of "
        f"{doc['runs']} run(s) (min, max); {doc['cpus']} CPUs; set-up {doc['setup_seconds']} s"
    )
    return render(title, rows), rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = server_url()
    if server is None:
        print("bench/month_end.py needs DATABASE_URL=postgres://... (a server)", file=sys.stderr)
        return 2
    with scratch_database(server, "month_end") as url:
        setup_django(url)
        doc = measure(args)
    text, rows = table(doc)
    doc["title"], doc["rows"] = text.splitlines()[0], rows
    same = doc["service"]["bills"][0] == doc["floor"]["bills"][0]
    agree = same and doc["service"]["totals"][0] == doc["floor"]["totals"][0]
    loop_agrees = all(made == doc["service"]["sample_bills"] for made in doc["loop"]["bills"])
    doc["floor_matches_service"] = agree
    doc["loop_matches_service"] = loop_agrees
    print(text)
    print(
        f"\nfloor vs service: {doc['floor']['bills'][0]:,} vs {doc['service']['bills'][0]:,} "
        f"bills, totals {doc['floor']['totals'][0]} vs {doc['service']['totals'][0]}: "
        f"{'same' if agree else 'DIFFERENT'}; loop on its sample: "
        f"{'same bills as the service' if loop_agrees else 'DIFFERENT from the service'}"
    )
    print(f"results: {write_results('month_end', doc, args.results_dir)}")
    return 0 if agree and loop_agrees else 1


if __name__ == "__main__":
    sys.exit(main())
