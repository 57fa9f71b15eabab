"""Backup and restore (issue 13, docs/operations.md "Backup and restore"): deploy/backup_check.py
dumps the test database with pg_dump, restores it into a fresh database and finds every count,
sum and checksum equal; a copy changed afterwards is reported, table by table.

The script is a separate process reading the test database, so the data is committed
(`transactional_db`) and the tests need PostgreSQL. The scratch database is named after the
configured one (billing_x -> billing_x_restore_check) and dropped before and after each test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from bills.models import Bill, BillAction, CreditNote, Delivery, Invoice, Payment, Status
from customers.models import Customer
from tests.factories import MONTH, YEAR, CustomerFactory
from tests.processes import database_url
from usage.models import Usage, UsageRevision
from usage.services import usage_record

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL (DATABASE_URL): the check runs pg_dump and pg_restore",
    ),
]

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "backup_check.py"


def run_check(*args: str) -> subprocess.CompletedProcess:
    """deploy/backup_check.py with these arguments; its output (stdout and stderr) as text."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def url_of(dbname: str) -> str:
    return database_url().rsplit("/", 1)[0] + "/" + dbname


def drop(dbname: str) -> None:
    with psycopg.connect(url_of("postgres"), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )


def database_exists(dbname: str) -> bool:
    with psycopg.connect(url_of("postgres")) as admin:
        return bool(
            admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        )


@pytest.fixture
def scratch():
    """The name of the database the check restores into; it does not exist before the test
    and is dropped after it."""
    name = connection.settings_dict["NAME"].removeprefix("test_") + "_restore_check"
    drop(name)
    yield name
    drop(name)


@pytest.fixture
def ledger(bill_in, finance):
    """Committed data in every table the check sums: bills in each status (a sent one with its
    invoice and its email in the outbox, a paid one with its payment, a void one with its credit
    note), their history, customers with theirs, usage with its revisions."""
    bills = {status: bill_in(status) for status in Status.values}
    customer = CustomerFactory(name="Backup Ltd")
    usage_record(customer=customer, year=YEAR, month=MONTH, api_usage=1_000, user=finance)
    usage_record(customer=customer, year=YEAR, month=MONTH, api_usage=2_500, user=finance)
    return bills


def expected_counts() -> dict[str, int]:
    counts = {
        "bills_bill": Bill.objects.count(),
        "bills_billaction": BillAction.objects.count(),
        "bills_invoice": Invoice.objects.count(),
        "bills_creditnote": CreditNote.objects.count(),
        "bills_payment": Payment.objects.count(),
        "bills_delivery": Delivery.objects.count(),
        "customers_customer": Customer.objects.count(),
        "customers_historicalcustomer": Customer.history.count(),
        "usage_usage": Usage.objects.count(),
        "usage_usagerevision": UsageRevision.objects.count(),
    }
    assert all(counts.values()), counts  # every table holds rows, or a loss would not show
    return counts


def table_line(output: str, table: str) -> str:
    match = re.search(rf"^{table} .*$", output, re.MULTILINE)
    assert match, f"{table} missing from the output:\n{output}"
    return match.group(0)


def test_a_restored_dump_has_every_row_and_every_amount(ledger, scratch):
    counts = expected_counts()

    done = run_check("--source", database_url(), "--target", scratch, "--jobs", "2")

    assert done.returncode == 0, done.stdout + done.stderr
    for table, count in counts.items():
        assert table_line(done.stdout, table).split()[1:3] == [str(count), str(count)]
        assert table_line(done.stdout, table).endswith(" ok")
    assert "OK: all" in done.stdout
    assert f"dropped: {scratch}" in done.stdout
    assert not database_exists(scratch)


def test_a_copy_that_differs_is_named_table_by_table(ledger, scratch):
    paid = ledger[Status.PAID]
    kept = run_check("--source", database_url(), "--target", scratch, "--keep")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert f"kept: {scratch}" in kept.stdout

    with psycopg.connect(url_of(scratch), autocommit=True) as copy:
        # The restore put the append-only guards back: history still refuses to be deleted.
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            copy.execute("DELETE FROM bills_billaction")
        copy.execute(
            "UPDATE bills_bill SET overage_amount = overage_amount + 0.01 WHERE id = %s",
            [paid.pk],
        )
        copy.execute("DELETE FROM bills_delivery WHERE id = (SELECT min(id) FROM bills_delivery)")

    done = run_check("--compare-only", database_url(), url_of(scratch))

    assert done.returncode == 1, done.stdout + done.stderr
    assert table_line(done.stdout, "bills_bill").endswith(" DIFFERENT")
    assert table_line(done.stdout, "bills_delivery").endswith(" DIFFERENT")
    line = r"DIFFERENT +bills_bill sum\(overage_amount\): source ([\d.]+), restored ([\d.]+)"
    sums = re.search(line, done.stdout)
    assert sums, done.stdout
    assert Decimal(sums[2]) - Decimal(sums[1]) == Decimal("0.01")
    summary = done.stdout.strip().splitlines()[-1]
    assert summary.startswith("DIFFERENT: ")
    assert "bills_bill sum(overage_amount)" in summary and "bills_delivery rows" in summary
    assert table_line(done.stdout, "bills_payment").endswith(" ok")
