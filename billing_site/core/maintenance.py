"""History tables refuse to be emptied, and the one escape hatch a maintenance session uses.

SPEC "BillAction": history is append-only; UPDATE, DELETE and TRUNCATE are refused by the
database on PostgreSQL and SQLite. `core.append_only.guard` (and the older migrations) refuse
UPDATE and DELETE row by row on PostgreSQL and UPDATE on SQLite; `refuse_emptying` adds what
those left open:

- PostgreSQL: a statement-level BEFORE TRUNCATE trigger on each table.
- SQLite: a BEFORE DELETE trigger on each table.

The hatch. Django's test flush empties every table (TRUNCATE on PostgreSQL, DELETE on SQLite),
and an operator may need to empty a database. Emptying is allowed only in a session that opened
the hatch on purpose:

- PostgreSQL: the session setting `billing.maintenance` is 'on' (`SET billing.maintenance =
  'on'` in psql, or `open_hatch(connection)`). It lifts TRUNCATE only: row UPDATE and DELETE
  stay refused whatever the setting.
- SQLite: the trigger asks the SQL function `billing_maintenance()`, which the app registers
  on each of its connections (`register_sqlite_function`, connected in CoreConfig.ready) and
  which answers 1 only on a connection where `open_hatch` was called. A raw sqlite3 shell has
  no such function, so its DELETE fails too ("no such function: billing_maintenance").

Only tests/conftest.py opens the hatch on every connection (`open_hatch_on_connect`); the
product never does. docs/operations.md "Maintenance: emptying history tables" says how.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

SETTING = "billing.maintenance"
SQLITE_FUNCTION = "billing_maintenance"
# The tables whose rows are history: each refuses UPDATE (payments: all but the undo) and
# DELETE row by row, and refuses being emptied unless the hatch is open.
HISTORY_TABLES = {
    "bills": ("bills_billaction", "bills_payment"),
    "usage": ("usage_usagerevision",),
    "customers": ("customers_historicalcustomer", "customers_historicalcustomerterms"),
}


def _pg(table: str) -> tuple[str, str]:
    function = f"{table}_no_truncate"
    forward = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    IF current_setting('{SETTING}', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION '{table} is append-only: TRUNCATE is refused outside a maintenance session';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {function} BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""
    backward = f"""
DROP TRIGGER IF EXISTS {function} ON {table};
DROP FUNCTION IF EXISTS {function}();
"""
    return forward, backward


def _sqlite(table: str) -> tuple[str, str]:
    trigger = f"{table}_no_delete"
    forward = f"""
CREATE TRIGGER {trigger} BEFORE DELETE ON {table}
WHEN {SQLITE_FUNCTION}() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, '{table} is append-only: DELETE is refused outside a maintenance session');
END;
"""
    return forward, f"DROP TRIGGER IF EXISTS {trigger};"


def _run(schema_editor, tables: tuple[str, ...], forward: bool) -> None:
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "postgresql":
            sql = _pg(table)[0 if forward else 1]
        elif vendor == "sqlite":
            sql = _sqlite(table)[0 if forward else 1]
        else:  # pragma: no cover - the product runs on PostgreSQL and SQLite
            continue
        schema_editor.execute(sql, params=None)


def refuse_emptying(*tables: str):
    """(forward, backward) functions for migrations.RunPython: forward adds the TRUNCATE trigger
    (PostgreSQL) or the DELETE trigger (SQLite) to each table, backward drops them."""
    return (
        lambda apps, schema_editor: _run(schema_editor, tables, True),
        lambda apps, schema_editor: _run(schema_editor, tables, False),
    )


def register_sqlite_function(sender, connection, **kwargs) -> None:
    """connection_created receiver: give an SQLite connection `billing_maintenance()`, which
    answers 1 while `open_hatch` holds for that connection and 0 otherwise."""
    if connection.vendor != "sqlite":
        return
    connection.connection.create_function(
        SQLITE_FUNCTION, 0, lambda: int(getattr(connection, "history_maintenance", False))
    )


def open_hatch(connection) -> None:
    """Allow emptying history tables on this connection (a Django connection wrapper):
    TRUNCATE on PostgreSQL, DELETE on SQLite. Row UPDATEs stay refused."""
    _set(connection, True)


def close_hatch(connection) -> None:
    """Refuse emptying history tables on this connection again."""
    _set(connection, False)


def _set(connection, on: bool) -> None:
    if connection.vendor == "sqlite":
        connection.history_maintenance = on
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, "on" if on else "off"])


@contextmanager
def maintenance(using: str = "default") -> Iterator[None]:
    """`with maintenance(): call_command("flush")`: the hatch open for the block only."""
    connection = connections[using]
    open_hatch(connection)
    try:
        yield
    finally:
        close_hatch(connection)


def open_hatch_on_connect(sender, connection, **kwargs) -> None:
    """connection_created receiver that opens the hatch on every new connection. Connected only
    by tests/conftest.py, so Django's test flush can empty the tables between tests."""
    open_hatch(connection)
