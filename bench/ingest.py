"""Usage ingestion beside its floor (issue 14, "Build" 2): the same rows over HTTP, through the
import command, and through PostgreSQL COPY plus one upsert, in one run, on its own database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/ingest.py
    python bench/ingest.py --quick                   # 10,000 customers x 10 months, one run: CI
    python bench/ingest.py --customers 100000 --runs 3 --workers 3 --clients 3

The rows are N customers x M months (the M months that ended last), each a distinct
customer-month, so every run creates them all in an emptied usage table:
  (a) POST /api/usage under gunicorn (--workers sync workers), batches of 10,000 items sent by
      --clients threads, each with its own connection, a Finance user's bearer token;
  (b) `manage.py import_usage` on the rows as a CSV file, run in this process (call_command:
      Django's start-up is not timed);
  (c) the floor: the same CSV file through COPY into a temporary table and one INSERT ... ON
      CONFLICT DO UPDATE into usage_usage, in one transaction; and, for information, the same
      plus one INSERT of the revisions the app writes for every changed month.
After each run the stored rows are compared with what was sent (count and sum of api_usage).
bench/ingest_http.py has the server and the clients.
Exit status (bench/common.py): 0 done; 1 stored rows differ from the rows sent (or a batch was
refused); 2 no usable DATABASE_URL. Missed targets are in the table, not in the exit status.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import common
from common import row
from ingest_http import BATCH, Gunicorn, json_batches, post_all

# Issue 14's targets.
TARGET_HTTP_ROWS_S = 25_000
TARGET_HTTP_FLOOR = 0.5
TARGET_IMPORT_FLOOR = 2 / 3

FLOOR_SQL = """
INSERT INTO usage_usage (customer_id, year, month, api_usage, created_at, updated_at)
SELECT customer_id, year, month, api_usage, now(), now() FROM bench_usage_stage
ON CONFLICT (customer_id, year, month) DO UPDATE
SET api_usage = excluded.api_usage, updated_at = excluded.updated_at
"""

# What the app writes on top of the floor: a revision per new customer-month (old value NULL:
# every run starts from an empty table), as usage.services.batch does.
HISTORY_SQL = """
INSERT INTO usage_usagerevision (
    usage_id, old_value, new_value, user_id, source, file_name, created_at)
SELECT u.id, NULL, s.api_usage, %(user_id)s, 'command', 'usage.csv', now()
FROM bench_usage_stage AS s
JOIN usage_usage AS u ON u.customer_id = s.customer_id AND u.year = s.year AND u.month = s.month
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, help="customers (default 100,000; quick 10,000)")
    parser.add_argument("--months", type=int, default=10, help="months per customer (10)")
    parser.add_argument("--runs", type=int, help="runs of each figure (default 3; quick 1)")
    parser.add_argument("--quick", action="store_true", help="the CI size: 10,000 and one run")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (3)")
    parser.add_argument("--clients", type=int, default=3, help="client threads sending (3)")
    parser.add_argument("--results-dir", type=Path, default=common.RESULTS)
    args = parser.parse_args(argv)
    args.customers = args.customers or (10_000 if args.quick else 100_000)
    args.runs = args.runs or (1 if args.quick else 3)
    if not 1 <= args.months <= 120:
        parser.error("--months must be from 1 to 120")
    return args


def make_rows(customers: int, months: int) -> tuple[list[tuple[int, int, int, int]], int]:
    """The rows (customer_id, year, month, api_usage), customer by customer, oldest month first,
    for customers 1..N and the `months` months ending with the last ended one; and their sum."""
    from billing_site.core import periods

    periods_ = [periods.last_ended_month()]
    while len(periods_) < months:
        periods_.append(periods.previous_month(*periods_[-1]))
    periods_.reverse()
    rows = [
        (c, year, month, (c * 7919 + k * 104729) % 3_000_000)
        for c in range(1, customers + 1)
        for k, (year, month) in enumerate(periods_)
    ]
    return rows, sum(r[3] for r in rows)


def stored(cursor) -> dict:
    """What usage_usage and its revisions hold: {"count", "sum", "revisions"}."""
    cursor.execute("SELECT count(*), coalesce(sum(api_usage), 0) FROM usage_usage")
    count, total = cursor.fetchone()
    cursor.execute("SELECT count(*) FROM usage_usagerevision")
    return {"count": int(count), "sum": int(total), "revisions": cursor.fetchone()[0]}


def reset(connection) -> None:
    """Empty the usage table and its revisions (the revisions refuse TRUNCATE unless the
    maintenance hatch is open: the bench database holds no other history), then VACUUM ANALYZE
    it, so every run starts from the same state. `connection`: Django's, in autocommit."""
    from billing_site.core.maintenance import maintenance

    with maintenance(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE usage_usagerevision, usage_usage")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE usage_usage")


# --- (a) over HTTP -------------------------------------------------------------------------


def measure_http(args, url, token, bodies, log_dir, connection) -> dict:
    """(a): gunicorn started once (each worker warmed up by a GET), then each run posts every
    batch on an emptied table. `connection`: Django's."""
    out: dict = {"workers": args.workers, "clients": args.clients, "batch": BATCH}
    out.update(seconds=[], rows_per_s=[], stored=[], refused=[])
    with Gunicorn(url, args.workers, log_dir / "gunicorn.log") as server:
        for _ in range(args.workers * 2):  # every worker imports and connects before timing
            request = urllib.request.Request(
                server.base + "/api/usage?page_size=1", headers={"Authorization": f"Bearer {token}"}
            )
            urllib.request.urlopen(request, timeout=60).read()
        for _ in range(args.runs):
            reset(connection)
            seconds, answers = post_all(server.port, token, bodies, args.clients)
            answers = [a or (0, b"no answer") for a in answers]
            bad = [(s, b[:300].decode(errors="replace")) for s, b in answers if s != 200]
            out["refused"].append(bad[:3])
            out["seconds"].append(round(seconds, 3))
            out["rows_per_s"].append(round(args.rows / seconds))
            with connection.cursor() as cursor:
                out["stored"].append(stored(cursor))
    return out


# --- (b) the import command and (c) the floor ----------------------------------------------


def write_csv(path: Path, rows: list[tuple[int, int, int, int]]) -> None:
    """The rows as import_usage's CSV file (customer_id,year,month,api_usage)."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("customer_id,year,month,api_usage\n")
        for start in range(0, len(rows), 100_000):
            out.write("".join(f"{c},{y},{m},{u}\n" for c, y, m, u in rows[start : start + 100_000]))


def measure_import(args, csv_path: Path, connection) -> dict:
    """(b): `import_usage FILE --as bench-finance -v 0` in this process, on an emptied table."""
    import io

    from django.core.management import call_command

    out: dict = {"seconds": [], "rows_per_s": [], "stored": [], "said": []}
    for _ in range(args.runs):
        reset(connection)
        begin = time.perf_counter()
        said = io.StringIO()
        call_command(
            "import_usage", str(csv_path), as_user="bench-finance", verbosity=0, stdout=said
        )
        seconds = time.perf_counter() - begin
        out["said"].append(said.getvalue().strip()[:300])
        out["seconds"].append(round(seconds, 3))
        out["rows_per_s"].append(round(args.rows / seconds))
        with connection.cursor() as cursor:
            out["stored"].append(stored(cursor))
    return out


def measure_floor(args, url: str, csv_path: Path, connection, history_by=None) -> dict:
    """(c): COPY the CSV file into a temporary table, one upsert, commit (psycopg directly).
    With `history_by` (a User), also one INSERT of the revisions the app writes, by that user:
    the floor of the app's whole work, for information."""
    import psycopg

    out: dict = {"seconds": [], "rows_per_s": [], "stored": []}
    for _ in range(args.runs):
        reset(connection)
        with psycopg.connect(url) as conn:
            begin = time.perf_counter()
            with conn.cursor() as cursor:
                cursor.execute(
                    "CREATE TEMP TABLE bench_usage_stage (customer_id bigint, year int,"
                    " month int, api_usage bigint) ON COMMIT DROP"
                )
                copy_sql = "COPY bench_usage_stage FROM STDIN (FORMAT csv, HEADER true)"
                with cursor.copy(copy_sql) as copy, csv_path.open("rb") as source:
                    while chunk := source.read(1 << 20):
                        copy.write(chunk)
                cursor.execute(FLOOR_SQL)
                if history_by is not None:
                    cursor.execute(HISTORY_SQL, {"user_id": history_by.pk})
            conn.commit()
            seconds = time.perf_counter() - begin
        out["seconds"].append(round(seconds, 3))
        out["rows_per_s"].append(round(args.rows / seconds))
        with connection.cursor() as cursor:
            out["stored"].append(stored(cursor))
    return out


# --- the run -------------------------------------------------------------------------------


def measure(args: argparse.Namespace, url: str, work: Path) -> dict:
    """Migrate and fill the scratch database at `url`, then measure (a), (b), (c) in turn.
    Returns the results document (what the JSON file holds, without the table)."""
    import month_end_sql
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Role, User

    begin = time.perf_counter()
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(month_end_sql.CUSTOMERS_SQL, {"n": args.customers, "before": "2021-01-01"})
        cursor.execute("ANALYZE customers_customer")
    user = User.objects.create_user(name="bench-finance", role=Role.FINANCE, password="x" * 16)
    rows, total = make_rows(args.customers, args.months)
    args.rows = len(rows)
    bodies = json_batches(rows)
    csv_path = work / "usage.csv"
    write_csv(csv_path, rows)
    del rows
    doc: dict = {
        "customers": args.customers,
        "months": args.months,
        "rows_sent": args.rows,
        "sum_sent": total,
        "runs": args.runs,
        "cpus": os.cpu_count(),
        "setup_seconds": round(time.perf_counter() - begin, 1),
    }
    doc["http"] = measure_http(args, url, user.session_token, bodies, work, connection)
    del bodies
    doc["import"] = measure_import(args, csv_path, connection)
    doc["floor"] = measure_floor(args, url, csv_path, connection)
    doc["floor_history"] = measure_floor(args, url, csv_path, connection, history_by=user)
    return doc


def table(doc: dict) -> tuple[str, list[dict]]:
    """The printed table and its rows (bench/common.py's shape)."""
    import statistics

    def rate(name: str) -> float:
        return statistics.median(doc[name]["rows_per_s"])

    floor, http_rate, imported = rate("floor"), rate("http"), rate("import")
    floor_text = f"floor {floor:,.0f} rows/s"
    history = rate("floor_history")

    def ratios(rate_: float) -> str:
        return f"{rate_ / floor:.2f}x the floor ({rate_ / history:.2f}x with revisions)"

    h = doc["http"]
    http_ok = http_rate >= TARGET_HTTP_ROWS_S and http_rate >= TARGET_HTTP_FLOOR * floor
    rows = [
        row(
            f"POST /api/usage over HTTP ({h['workers']} gunicorn workers, {h['clients']} "
            f"clients, batches of {h['batch']:,})",
            common.spread(h["rows_per_s"], "rows/s", 0),
            reference=floor_text,
            ratio=ratios(http_rate),
            target=f">= {TARGET_HTTP_ROWS_S:,} rows/s and >= {TARGET_HTTP_FLOOR:g}x the floor",
            met=http_ok,
        ),
        row(
            "import_usage on a CSV file (in-process)",
            common.spread(doc["import"]["rows_per_s"], "rows/s", 0),
            reference=floor_text,
            ratio=ratios(imported),
            target=">= 2/3 of the floor",
            met=imported >= TARGET_IMPORT_FLOOR * floor,
        ),
        row(
            "floor: COPY into a staging table + one INSERT ... ON CONFLICT",
            common.spread(doc["floor"]["rows_per_s"], "rows/s", 0),
        ),
        row(
            "floor with revisions: the same + one INSERT of a revision per row (information)",
            common.spread(doc["floor_history"]["rows_per_s"], "rows/s", 0),
        ),
    ]
    title = (
        f"Usage ingestion on PostgreSQL, {doc['customers']:,} customers x {doc['months']} months"
        f" = {doc['rows_sent']:,} rows, median of {doc['runs']} run(s) (min, max); "
        f"{doc['cpus']} CPUs; set-up {doc['setup_seconds']} s"
    )
    return common.render(title, rows), rows


def honest(doc: dict) -> bool:
    """Every run of every figure stored exactly the rows sent (count and sum), and no batch was
    refused."""
    want = (doc["rows_sent"], doc["sum_sent"])
    names = ("http", "import", "floor", "floor_history")
    runs = [s for name in names for s in doc[name]["stored"]]
    return all((s["count"], s["sum"]) == want for s in runs) and not any(doc["http"]["refused"])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = common.server_url()
    if server is None:
        print("bench/ingest.py needs DATABASE_URL=postgres://... (a server)", file=sys.stderr)
        return 2
    with (
        tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp,
        common.scratch_database(server, "ingest") as url,
    ):
        common.setup_django(url)
        doc = measure(args, url, Path(tmp))
    text, rows = table(doc)
    doc["title"], doc["rows"] = text.splitlines()[0], rows
    doc["stored_equals_sent"] = ok = honest(doc)
    print(text)
    print(
        f"\nstored vs sent after every run: {doc['rows_sent']:,} rows, sum {doc['sum_sent']:,}: "
        + ("same" if ok else f"DIFFERENT {json.dumps({k: doc[k] for k in ('http', 'import')})}")
    )
    print(f"results: {common.write_results('ingest', doc, args.results_dir)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
