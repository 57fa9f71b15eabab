"""Database triggers that make a table append-only: PostgreSQL refuses UPDATE and DELETE,
SQLite refuses UPDATE. Used by migrations of history tables; core.maintenance.refuse_emptying
adds the rest (TRUNCATE on PostgreSQL, DELETE on SQLite) with its maintenance hatch."""

from __future__ import annotations


def _pg(table: str) -> tuple[str, str]:
    function = f"{table}_append_only"
    forward = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{table} is append-only: % is refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
"""
    backward = f"""
DROP TRIGGER IF EXISTS {table}_no_update ON {table};
DROP TRIGGER IF EXISTS {table}_no_delete ON {table};
DROP FUNCTION IF EXISTS {function}();
"""
    return forward, backward


def _sqlite(table: str) -> tuple[str, str]:
    forward = f"""
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
BEGIN
    SELECT RAISE(ABORT, '{table} is append-only: UPDATE is refused');
END;
"""
    return forward, f"DROP TRIGGER IF EXISTS {table}_no_update;"


def _run(schema_editor, tables: tuple[str, ...], forward: bool) -> None:
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "postgresql":
            sql = _pg(table)[0 if forward else 1]
        elif vendor == "sqlite":
            sql = _sqlite(table)[0 if forward else 1]
        else:  # pragma: no cover - the product runs on PostgreSQL and SQLite
            continue
        # params=None: "%" reaches PL/pgSQL instead of being read as a driver placeholder.
        schema_editor.execute(sql, params=None)


def guard(*tables: str):
    """(forward, backward) functions for migrations.RunPython that add the triggers."""
    return (
        lambda apps, schema_editor: _run(schema_editor, tables, True),
        lambda apps, schema_editor: _run(schema_editor, tables, False),
    )
