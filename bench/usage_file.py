"""A big usage file, and a throwaway PostgreSQL database whose customers it names.

    .venv/bin/python bench/usage_file.py                       # 1,000,000 rows, 100,000 customers
    .venv/bin/python bench/usage_file.py --rows 200000 --out /tmp/usage-200k.csv
    .venv/bin/python bench/usage_file.py --time                # ...then time the import

It (re)creates the database `--database` (default billing_bench_usage) on the server of
BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), migrates it, adds the
customers and a Finance user `bench-fin`, writes the CSV file (each customer's months, oldest
first, ending last month) and prints the command that imports it. With --time it runs that
command and prints its wall time and peak memory.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)
SERVER = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--out", default="/tmp/usage-1m.csv")
    parser.add_argument("--database", default="billing_bench_usage")
    parser.add_argument("--time", action="store_true", help="then time the import")
    args = parser.parse_args()
    url = _database_url(args.database)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-only-insecure-key-0123456789abcdefghijklmnop",
        "DEBUG": "0",
    }

    _recreate(args.database)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    os.environ.update(env)
    ids = _customers(args.customers)
    _write(args.out, ids, args.rows)
    print(
        f"{args.database}: {len(ids):,} customers; {args.out}: {args.rows:,} rows, "
        f"{os.path.getsize(args.out) / 1024 / 1024:.1f} MB ({time.perf_counter() - started:.0f} s)"
    )
    command = [sys.executable, "manage.py", "import_usage", args.out, "--as", "bench-fin"]
    print(f"DATABASE_URL={url} {' '.join(command)}")
    if args.time:
        started = time.perf_counter()
        # A process forked from a big one (this one) starts with its high-water mark: a small
        # wrapper starts the command and reports the peak of its only child.
        done = subprocess.run(
            [sys.executable, "-c", WRAPPER, *command],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        took = time.perf_counter() - started
        peak_kb = int(done.stderr.strip().splitlines()[-1])
        print(f"import_usage: {took:.1f} s wall, peak RSS {peak_kb / 1024:.0f} MB")
        sys.exit(done.returncode)


def _database_url(name: str) -> str:
    parts = urlsplit(SERVER)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _recreate(name: str) -> None:
    import psycopg

    with psycopg.connect(SERVER, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def _customers(n: int) -> list[int]:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_site.settings")
    import django

    django.setup()
    from accounts.models import Role, User
    from customers.models import Customer

    User.objects.create_user(name="bench-fin", role=Role.FINANCE, password="x" * 12)
    Customer.objects.bulk_create(
        (
            Customer(
                name=f"Bench customer {i:07d}",
                billing_email=f"ap{i}@bench.example",
                monthly_api_limit=1_000_000,
                overage_unit_cost=Decimal("0.0025"),
                start_date=date(2020, 1, 1),
            )
            for i in range(n)
        ),
        batch_size=5_000,
    )
    return list(Customer.objects.order_by("id").values_list("id", flat=True))


def _write(path: str, ids: list[int], rows: int) -> None:
    from billing_site.core import periods

    per_customer = -(-rows // len(ids))
    months = [periods.last_ended_month()]
    for _ in range(per_customer - 1):
        months.append(periods.previous_month(*months[-1]))
    months.reverse()
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("customer_id,year,month,api_usage\n")
        for k, customer_id in enumerate(ids):
            lines = []
            for j, (year, month) in enumerate(months):
                if written == rows:
                    break
                lines.append(
                    f"{customer_id},{year},{month},{(k * 7919 + j * 104729) % 3_000_000}\n"
                )
                written += 1
            out.write("".join(lines))


if __name__ == "__main__":
    main()
