"""History is append-only everywhere (SPEC "BillAction"; billing_site.core.maintenance): every
history table refuses UPDATE, DELETE and (PostgreSQL) TRUNCATE through raw SQL, and only a
session that opened the maintenance hatch may empty one, never edit it. Runs on PostgreSQL and
on SQLite (`env -u DATABASE_URL .venv/bin/python -m pytest tests/core/test_maintenance.py`)."""

import sqlite3
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from billing_site.core.maintenance import _sqlite, close_hatch, maintenance, open_hatch
from customers.services import customer_terms_set
from tests.factories import MONTH, YEAR
from usage.services import usage_record

# A raw write that changes each table's rows (for payments: one that is not the undo).
TAMPER = {
    "bills_billaction": "UPDATE bills_billaction SET comment = 'tampered'",
    "bills_payment": "UPDATE bills_payment SET amount = amount + 1",
    "usage_usagerevision": "UPDATE usage_usagerevision SET new_value = 99",
    "customers_historicalcustomer": "UPDATE customers_historicalcustomer SET name = 'tampered'",
    "customers_historicalcustomerterms": (
        "UPDATE customers_historicalcustomerterms SET monthly_api_limit = 1"
    ),
}
TABLES = list(TAMPER)
REFUSED = "append-only|payments are kept|changes only once"
POSTGRES = connection.vendor == "postgresql"
EMPTY = "TRUNCATE {table}" if POSTGRES else "DELETE FROM {table}"


@pytest.fixture
def history(bill_in, customer, finance):
    """At least one row in every history table: a paid bill (history rows and a payment), a
    usage revision, and customer history with a terms version."""
    bill_in("paid", customer=customer)
    usage_record(customer=customer, year=YEAR, month=MONTH, api_usage=10, user=finance)
    customer_terms_set(
        customer=customer,
        effective_year=YEAR,
        effective_month=MONTH,
        monthly_api_limit=5,
        overage_unit_cost=Decimal("0.001"),
        require_csm_approval=False,
        user=finance,
    )
    assert all(_count(table) > 0 for table in TABLES)
    if POSTGRES:  # TRUNCATE waits for no deferred foreign-key check of this test's inserts
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.fixture
def hatch_closed(db):
    """The tests open the hatch on every connection (tests/conftest.py); here it is closed,
    as in the product."""
    close_hatch(connection)
    yield
    open_hatch(connection)


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]


def _refused(sql: str) -> None:
    with (
        pytest.raises(DatabaseError, match=REFUSED),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)


@pytest.mark.parametrize("table", TABLES)
def test_the_database_refuses_to_edit_delete_or_empty_history(history, hatch_closed, table):
    rows = _count(table)
    _refused(TAMPER[table])
    _refused(f"DELETE FROM {table}")
    if POSTGRES:
        _refused(f"TRUNCATE {table}")
    assert _count(table) == rows


@pytest.mark.parametrize("table", TABLES)
def test_a_maintenance_session_may_empty_history_but_never_edit_it(history, hatch_closed, table):
    with maintenance():
        _refused(TAMPER[table])
        with connection.cursor() as cursor:
            cursor.execute(EMPTY.format(table=table))
    assert _count(table) == 0
    other = next(t for t in TABLES if t != table)  # closed again when the block ends
    _refused(EMPTY.format(table=other))
    assert _count(other) > 0


@pytest.mark.skipif(not POSTGRES, reason="TRUNCATE is PostgreSQL's")
def test_truncating_a_table_that_cascades_into_history_is_refused(history, hatch_closed):
    _refused("TRUNCATE bills_bill CASCADE")
    assert _count("bills_bill") == 1


def test_a_raw_sqlite_shell_without_the_apps_function_is_refused():
    raw = sqlite3.connect(":memory:")
    raw.execute("CREATE TABLE kept (id INTEGER)")
    raw.execute("INSERT INTO kept VALUES (1)")
    raw.executescript(_sqlite("kept")[0])
    with pytest.raises(sqlite3.OperationalError, match="no such function: billing_maintenance"):
        raw.execute("DELETE FROM kept")
    raw.execute("INSERT INTO kept VALUES (2)")  # adding rows needs no function
    raw.create_function("billing_maintenance", 0, lambda: 0)
    with pytest.raises(sqlite3.IntegrityError, match="kept is append-only: DELETE is refused"):
        raw.execute("DELETE FROM kept")
    assert raw.execute("SELECT COUNT(*) FROM kept").fetchone() == (2,)
