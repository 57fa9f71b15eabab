"""Check that a backup of the billing database restores whole (issue 13, docs/operations.md
"Backup and restore").

    .venv/bin/python deploy/backup_check.py --source postgres://user@host:5432/billing
    .venv/bin/python deploy/backup_check.py --source URL --keep --target billing_restored
    .venv/bin/python deploy/backup_check.py --source URL --dump-dir /var/backups/billing
    .venv/bin/python deploy/backup_check.py --compare-only SOURCE_URL RESTORED_URL

With --source: opens a read-only REPEATABLE READ transaction on the source and exports its
snapshot; `pg_dump --format=custom --snapshot=...` dumps exactly that snapshot while the same
transaction measures the source, so the app may keep writing during the check. Then it creates a
fresh database on the same server (default name `<source>_restore_check_<UTC time>`, same
encoding and locale), `pg_restore`s the dump into it (--no-owner --no-acl: the copy belongs to
whoever runs the check), measures the copy the same way and compares. The copy is dropped unless
--keep; the dump file is removed unless --dump-dir names where to keep it.

With --compare-only: measures two existing databases and compares them (no dump, no restore).
Both are read live, so the source should not be written to meanwhile.

What is measured (every check is a text value, compared exactly):
- every table of the public schema: `rows` (count), `md5(ids)` (md5 of the primary keys in
  order) and `md5(rows)` (md5 of each whole row's text, in primary key order);
- the app's tables (APP_TABLES) must exist in the source, and for each its money and usage
  columns: `sum(col)` (exact: numeric and bigint sums are not rounded);
- `triggers` per table: the names of its enabled user triggers (the append-only guards of the
  history tables are created after the data by pg_restore, so a missing one shows here);
- `sequence` per sequence: its last value (the next invoice number, the next id).

Prints one line per table or sequence (rows in the source and the copy, checks matched, ok or
DIFFERENT), then each check that differs with both values (--verbose: every check), then a
summary naming what differs. Exit status: 0 every check matches, 1 some differ (the summary
names them), 2 the check could not run (dump, restore or connection failed; the message says
why). Needs pg_dump/pg_restore at least as new
as the server, and the right to create databases.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

# The app's tables and the columns whose sums must survive a restore: money (exact decimals)
# and usage (API calls, as bigint). A table listed here must exist in the source database.
APP_TABLES: dict[str, tuple[str, ...]] = {
    "accounts_user": (),
    "customers_customer": ("monthly_api_limit", "overage_unit_cost"),
    "customers_customerterms": ("monthly_api_limit", "overage_unit_cost"),
    "customers_historicalcustomer": ("monthly_api_limit", "overage_unit_cost"),
    "customers_historicalcustomerterms": ("monthly_api_limit", "overage_unit_cost"),
    "usage_usage": ("api_usage",),
    "usage_usagerevision": ("old_value", "new_value"),
    "usage_usageupload": (),
    "bills_bill": ("api_usage", "overage_units", "overage_amount", "amount_paid"),
    "bills_billaction": (),
    "bills_invoice": ("amount", "api_usage", "overage_units"),
    "bills_creditnote": ("amount",),
    "bills_payment": ("amount",),
    "bills_documentsequence": ("last",),
    "bills_delivery": ("attempts",),
    "bills_job": ("processed",),
    "django_tasks_database_dbtaskresult": (),
}

# A check: (table or sequence name, what is measured) -> its value as text ("" for NULL).
Measures = dict[tuple[str, str], str]


class CheckError(Exception):
    """The check could not run (connection, pg_dump, pg_restore, a table missing): exit 2."""


def describe(conninfo: str) -> str:
    """host:port/dbname of a URL or conninfo, without user or password (for printing)."""
    parts = conninfo_to_dict(conninfo)
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def with_dbname(conninfo: str, dbname: str) -> str:
    """The same connection parameters (user, password, host...) for another database."""
    return make_conninfo(conninfo, dbname=dbname)


def _tables(cur: psycopg.Cursor) -> dict[str, list[str]]:
    """{table: its primary key columns, in key order} for the ordinary tables of `public`."""
    cur.execute(
        """
        SELECT c.relname,
               coalesce(array_agg(a.attname ORDER BY k.ord) FILTER (WHERE a.attname IS NOT NULL),
                        '{}')
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
        LEFT JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
        LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
        WHERE c.relkind IN ('r', 'p')
        GROUP BY c.relname ORDER BY c.relname
        """
    )
    return {name: list(keys) for name, keys in cur.fetchall()}


def measure(conn: psycopg.Connection) -> Measures:
    """Every check of the module docstring on one database, read in the connection's current
    transaction. Raises CheckError if a table of APP_TABLES is missing."""
    values: Measures = {}
    with conn.cursor() as cur:
        tables = _tables(cur)
        missing = sorted(set(APP_TABLES) - set(tables))
        if missing:
            raise CheckError(
                f"{describe(conn.info.dsn)} has no table {', '.join(missing)}: is it the billing "
                "database, migrated? (or APP_TABLES in deploy/backup_check.py is out of date)"
            )
        for table, keys in tables.items():
            t = sql.Identifier(table)
            order = sql.SQL(", ").join(map(sql.Identifier, keys)) if keys else sql.SQL("r::text")
            key_text = (
                sql.SQL("row({})::text").format(sql.SQL(", ").join(map(sql.Identifier, keys)))
                if keys
                else sql.SQL("r::text")
            )
            sums = [
                sql.SQL(", coalesce(sum({})::text, '')").format(sql.Identifier(column))
                for column in APP_TABLES.get(table, ())
            ]
            cur.execute(
                sql.SQL(
                    "SELECT count(*)::text,"
                    " coalesce(md5(string_agg({key_text}, ',' ORDER BY {order})), ''),"
                    " coalesce(md5(string_agg(md5(r::text), ',' ORDER BY {order})), '')"
                    "{sums} FROM {t} AS r"
                ).format(key_text=key_text, order=order, sums=sql.Composed(sums), t=t)
            )
            row = cur.fetchone()
            values[(table, "rows")] = row[0]
            values[(table, "md5(ids)")] = row[1]
            values[(table, "md5(rows)")] = row[2]
            for column, total in zip(APP_TABLES.get(table, ()), row[3:], strict=True):
                values[(table, f"sum({column})")] = total
        cur.execute(
            """
            SELECT c.relname, string_agg(t.tgname, ',' ORDER BY t.tgname)
            FROM pg_trigger t
            JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
            WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'
            GROUP BY c.relname
            """
        )
        for table, names in cur.fetchall():
            values[(table, "triggers")] = names
        cur.execute(
            "SELECT sequencename, coalesce(last_value::text, '') FROM pg_sequences "
            "WHERE schemaname = 'public'"
        )
        for name, last in cur.fetchall():
            values[(name, "sequence")] = last
    return values


def compare(source: Measures, restored: Measures) -> list[tuple[str, str, str, str, bool]]:
    """[(name, check, source value, restored value, equal)] for every check either side has,
    sorted by name then check; a check one side lacks has the value "(none)"."""
    lines = []
    for key in sorted(set(source) | set(restored)):
        left, right = source.get(key, "(none)"), restored.get(key, "(none)")
        lines.append((*key, left, right, left == right))
    return lines


def _short(value: str) -> str:
    return value if len(value) <= 64 else value[:61] + "..."


def report(lines: list[tuple[str, str, str, str, bool]], verbose: bool = False) -> bool:
    """Print one line per table or sequence (its rows on each side, how many of its checks
    matched), then each check that differs with both values (every check with `verbose`), then
    a summary line. True if every check matched."""
    names: dict[str, list[tuple[str, str, str, bool]]] = {}
    for name, check, left, right, equal in lines:
        names.setdefault(name, []).append((check, left, right, equal))
    width = max([len(name) for name in names] + [5])
    print(f"{'table':<{width}}  {'rows':>10}  {'restored':>10}  {'checks':>7}  result")
    for name, checks in names.items():
        rows = {check: (left, right) for check, left, right, _ in checks}.get("rows", ("-", "-"))
        matched = sum(equal for *_, equal in checks)
        result = "ok" if matched == len(checks) else "DIFFERENT"
        print(
            f"{name:<{width}}  {rows[0]:>10}  {rows[1]:>10}  "
            f"{f'{matched}/{len(checks)}':>7}  {result}"
        )
    shown = [line for line in lines if verbose or not line[4]]
    if shown:
        print()
    for name, check, left, right, equal in shown:
        print(
            f"{'ok' if equal else 'DIFFERENT':<9}  {name} {check}: "
            f"source {_short(left) or '(null)'}, restored {_short(right) or '(null)'}"
        )
    differ = [f"{name} {check}" for name, check, _, _, equal in lines if not equal]
    print()
    if differ:
        print(f"DIFFERENT: {len(differ)} of {len(lines)} checks differ: {'; '.join(differ)}")
        return False
    print(f"OK: all {len(lines)} checks on {len(names)} tables and sequences match")
    return True


def _run(command: list[str], what: str) -> None:
    # The command is pg_dump or pg_restore with the operator's own URL: no untrusted input.
    done = subprocess.run(command, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        raise CheckError(f"{what} failed (exit {done.returncode}):\n{done.stderr.strip()}")


def _read_only(conn: psycopg.Connection) -> None:
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


def dump_and_measure(source: str, dump_file: Path) -> Measures:
    """pg_dump the source's exported snapshot to `dump_file` (custom format) and measure that
    same snapshot."""
    with psycopg.connect(source) as conn:
        _read_only(conn)
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        started = time.monotonic()
        _run(
            ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={dump_file}",
             f"--dbname={source}"],
            "pg_dump",
        )  # fmt: skip
        size = dump_file.stat().st_size
        print(f"dumped: {dump_file} ({size:,} bytes, {time.monotonic() - started:.1f} s)")
        values = measure(conn)
        conn.rollback()
    return values


def create_database(source: str, target: str) -> None:
    """CREATE DATABASE `target` on the source's server, empty (template0), with the source's
    encoding and locale. Raises CheckError if it exists or may not be created."""
    with psycopg.connect(source) as conn:
        encoding, collate, ctype = conn.execute(
            "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database "
            "WHERE datname = current_database()"
        ).fetchone()
    try:
        with psycopg.connect(with_dbname(source, "postgres"), autocommit=True) as admin:
            admin.execute(
                sql.SQL(
                    "CREATE DATABASE {} TEMPLATE template0 ENCODING {} LC_COLLATE {} LC_CTYPE {}"
                ).format(sql.Identifier(target), encoding, collate, ctype)
            )
    except psycopg.Error as error:
        raise CheckError(f"cannot create the database {target}: {error}") from error


def drop_database(source: str, target: str) -> None:
    """DROP DATABASE `target` (if it exists) on the source's server."""
    with psycopg.connect(with_dbname(source, "postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(target)))


def restore_check(
    source: str, target: str | None, keep: bool, dump_dir: Path | None, jobs: int, verbose: bool
) -> int:
    """Dump, restore into a fresh database, measure both and print the comparison. Returns the
    exit status (0 or 1); raises CheckError (exit 2)."""
    source_name = conninfo_to_dict(source).get("dbname", "")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d_%H%M%S")
    target = target or f"{source_name}_restore_check_{stamp}"
    if target in (source_name, "postgres", "template0", "template1"):
        raise CheckError(f"will not restore into {target}: name a new database with --target")
    workdir = Path(tempfile.mkdtemp(prefix="backup_check_"))
    dump_file = (dump_dir or workdir) / f"{source_name}_{stamp}.dump"
    created = False
    try:
        print(f"source: {describe(source)}")
        source_values = dump_and_measure(source, dump_file)
        create_database(source, target)
        created = True
        target_url = with_dbname(source, target)
        started = time.monotonic()
        _run(
            ["pg_restore", "--exit-on-error", "--no-owner", "--no-acl", f"--jobs={jobs}",
             f"--dbname={target_url}", str(dump_file)],
            "pg_restore",
        )  # fmt: skip
        print(f"restored: {describe(target_url)} ({time.monotonic() - started:.1f} s)")
        with psycopg.connect(target_url) as conn:
            _read_only(conn)
            restored_values = measure(conn)
        print()
        matched = report(compare(source_values, restored_values), verbose)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if created and not keep:
            drop_database(source, target)
            print(f"dropped: {target}")
        elif created:
            print(f"kept: {target}")
    return 0 if matched else 1


def compare_only(source: str, restored: str, verbose: bool = False) -> int:
    """Measure two existing databases and print the comparison; 0 if every check matches."""
    values = []
    for url in (source, restored):
        with psycopg.connect(url) as conn:
            _read_only(conn)
            values.append(measure(conn))
    print(f"source: {describe(source)}\nrestored: {describe(restored)}\n")
    return 0 if report(compare(*values), verbose) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--source", help="URL of the database to back up and check")
    mode.add_argument(
        "--compare-only", nargs=2, metavar=("SOURCE", "RESTORED"), help="compare two databases"
    )
    parser.add_argument("--target", help="name of the database to restore into (must not exist)")
    parser.add_argument("--keep", action="store_true", help="keep the restored database")
    parser.add_argument("--dump-dir", type=Path, help="keep the dump file in this directory")
    parser.add_argument("--jobs", type=int, default=1, help="pg_restore --jobs (default 1)")
    parser.add_argument("--verbose", action="store_true", help="print every check's values")
    args = parser.parse_args(argv)
    try:
        if args.compare_only:
            return compare_only(*args.compare_only, verbose=args.verbose)
        if args.dump_dir:
            args.dump_dir.mkdir(parents=True, exist_ok=True)
        return restore_check(
            args.source, args.target, args.keep, args.dump_dir, args.jobs, args.verbose
        )
    except (CheckError, psycopg.Error) as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
