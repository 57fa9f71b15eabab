"""A batch of usage rows checked and written set-based, in SQL, inside the caller's transaction.

Every way usage comes in ends here: the API's batches, the record page (one month, or a file's
preview and its Confirm), the admin and `import_usage`. The rows go into a temporary staging
table (PostgreSQL: COPY; otherwise, or when asked, batched INSERTs; a batch of at most SMALL
rows into the statements themselves, as a VALUES list), are checked there with one query
whatever their number (ranges, months in the future, unknown customers, a customer-month set
twice), their customers locked (UsageBatch.lock), compared with the recorded usage, and written
with ONE upsert and ONE insert of their revisions (one statement on PostgreSQL). Only rows
whose value changes are written; the others are counted.

    with transaction.atomic(), UsageBatch(numbered="item") as batch:
        batch.add(rows)                      # (row number, customer_id, year, month, api_usage)
        errors, bad = batch.check(today=periods.today())
        result = batch.write(user=..., source=..., file_name=...)
"""

# ruff: noqa: S608 - the statements are built from model table names and constants only; every
# value goes in as a bound parameter (or, for the date and a cap, as an int formatted by us).

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain, islice

from django.db import connection
from django.utils import timezone

from accounts.models import User
from billing_site.core import periods
from customers.models import Customer
from usage.models import Usage, UsageRevision
from usage.services.batch_sql import (
    SAME_MONTH,
    StagedRow,
    check_sql,
    chunks,
    copy_line,
    six,
    values,
)
from usage.services.rows import (
    DUPLICATE,
    FUTURE_MONTH,
    OUT_OF_RANGE,
    TEXT,
    UNKNOWN_CUSTOMER,
    UsageRowError,
    duplicate_message,
    future_month_message,
    unknown_customer_message,
    usage_row_parse,
)

# A batch of at most this many rows is staged as a VALUES list, not a temporary table.
SMALL = 100
STAGE_COLUMNS = ("row_no", "customer_id", "year", "month", "api_usage", "expected")
DIFF_COLUMNS = ("row_no", "customer_id", "year", "month", "new_value", "old_value")
# UsageBatch.lock: advisory locks (LOCK_NAMESPACE, customer_id mod LOCK_BUCKETS). 1,024 of them
# at most per batch, well inside PostgreSQL's shared lock table (64 x max_connections).
LOCK_NAMESPACE = 7_461_003
LOCK_BUCKETS = 1_024
_FIELD_ORDER = {"": 0, "customer_id": 1, "year": 2, "month": 3, "api_usage": 4}


@dataclass(frozen=True)
class UsageResult:
    """What a recording did: customer-months created, updated (a new value) and unchanged (sent
    again with the value they hold: not written, no revision)."""

    created: int
    updated: int
    unchanged: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass(frozen=True)
class UsageChange:
    """A customer-month whose total a batch changes: `old` None when the month is new."""

    row: int
    customer_id: int
    customer_name: str
    year: int
    month: int
    old: int | None
    new: int

    @property
    def label(self) -> str:
        return periods.label(self.year, self.month)


class UsageBatch:
    """The staging tables of one batch, inside a transaction (see the module's docstring).

    `numbered`: "item" (an index in a batch) or "line" (a file's line), for the duplicate's
    sentence. `copy`: stage with COPY (the default on PostgreSQL) or with batched INSERTs (the
    only way on SQLite; forced with copy=False).

    A batch of at most SMALL rows (a one-row POST, the record page's form) makes no tables:
    its rows, and later its changed rows, go into the same statements as a VALUES list (they
    are ints, written by _values), which saves the eight statements of creating, analysing and
    dropping two temporary tables (issue 14: 19 statements per one-row POST, now 11). The
    queries are the same text either way; only what `stage` and `diff` name differs.
    """

    def __init__(self, *, numbered: str = "item", copy: bool | None = None):
        self.vendor = connection.vendor
        self.postgres = self.vendor == "postgresql"
        self.copy = self.postgres if copy is None else copy
        self.numbered = numbered
        self.staged = 0
        schema = "pg_temp" if self.postgres else "temp"
        self.stage_table, self.diff_table = f"{schema}.usage_stage", f"{schema}.usage_diff"
        self.usage = Usage._meta.db_table
        # The rows while the batch is small (None once they are in the staging table), and
        # compare()'s changed rows of a small batch.
        self.inline: list[tuple] | None = []
        self.inline_diff: list[tuple] = []

    @property
    def stage(self) -> str:
        """The staged rows, as a table name or a parenthesized VALUES subquery."""
        if self.inline is None:
            return self.stage_table
        return values(self.inline or [(0, 0, 0, 0, 0, None)], STAGE_COLUMNS, empty=not self.inline)

    @property
    def diff(self) -> str:
        """compare()'s changed rows, as a table name or a parenthesized VALUES subquery."""
        if self.inline is None:
            return self.diff_table
        rows = self.inline_diff or [(0, 0, 0, 0, 0, None)]
        return values(rows, DIFF_COLUMNS, empty=not self.inline_diff)

    def __enter__(self) -> UsageBatch:
        if not connection.in_atomic_block:
            raise RuntimeError("A usage batch runs inside transaction.atomic().")
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        # On an error the caller's transaction is rolled back, and the tables with it.
        if exc_type is None and self.inline is None:
            self._sql(f"DROP TABLE IF EXISTS {self.stage_table}")
            self._sql(f"DROP TABLE IF EXISTS {self.diff_table}")

    def _create_stage(self) -> None:
        self._sql(f"DROP TABLE IF EXISTS {self.stage_table}")
        self._sql(f"DROP TABLE IF EXISTS {self.diff_table}")
        self._sql(
            "CREATE TEMP TABLE usage_stage (row_no BIGINT NOT NULL, customer_id BIGINT NOT NULL,"
            " year BIGINT NOT NULL, month BIGINT NOT NULL, api_usage BIGINT NOT NULL,"
            " expected BIGINT NULL)"
        )

    # --- staging ---------------------------------------------------------------------------

    def add(self, rows: Iterable[StagedRow]) -> int:
        """Stage rows (consumed as they come: a generator is never held whole). Returns how
        many were staged."""
        before = self.staged
        iterator: Iterable[StagedRow] = iter(rows)
        if self.inline is not None:
            room = SMALL + 1 - len(self.inline)
            head = [six(row) for row in islice(iterator, room)]
            if len(head) < room:  # all of them, and the batch is still small
                self.inline += head
                self.staged += len(head)
                return self.staged - before
            held, self.inline = self.inline, None
            self.staged -= len(held)
            self._create_stage()
            iterator = chain(held, head, iterator)
        if self.copy:
            self._copy(iterator)
        else:
            self._insert(iterator)
        if self.postgres:
            # Temporary tables are never analysed by autovacuum; without statistics the planner
            # takes a million staged rows for a thousand and joins them in nested loops.
            self._sql(f"ANALYZE {self.stage}")
        return self.staged - before

    def _copy(self, rows: Iterable[StagedRow]) -> None:
        columns = "row_no, customer_id, year, month, api_usage, expected"
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {self.stage} ({columns}) FROM STDIN") as copy,
        ):
            for chunk in chunks(rows):
                copy.write("".join(copy_line(row) for row in chunk))
                self.staged += len(chunk)

    def _insert(self, rows: Iterable[StagedRow]) -> None:
        sql = f"INSERT INTO {self.stage} VALUES (%s, %s, %s, %s, %s, %s)"
        with connection.cursor() as cursor:
            for chunk in chunks(rows):
                cursor.executemany(sql, [six(row) for row in chunk])
                self.staged += len(chunk)

    # --- checking --------------------------------------------------------------------------

    def check(self, *, today: date, cap: int | None = None) -> tuple[list[UsageRowError], int]:
        """Every staged row's problems that need the database or the date, by row: a value out
        of its range, a month after `today`'s, an unknown customer, a customer-month set twice
        (the later rows, naming the first). Each row gets the first kind that applies, in that
        order. Returns (the errors, at most `cap` rows' worth when capped; how many rows are
        bad). One query however many rows (four SELECTs, one per kind, in a UNION ALL)."""
        found = self._rows(check_sql(self.stage, today=today, cap=cap))
        errors: list[UsageRowError] = []
        counts: dict[str, int] = {}
        for kind, row, customer_id, year, month, api_usage, first, total in found:
            counts[kind] = total
            if kind == "range":
                raw = {
                    "customer_id": customer_id,
                    "year": year,
                    "month": month,
                    "api_usage": api_usage,
                }
                _, parsed = usage_row_parse(raw=raw, row=row, source=TEXT)
                errors += [e for e in parsed if e.code == OUT_OF_RANGE]
            elif kind == "future":
                message = future_month_message(year, month)
                errors.append(UsageRowError(row, "month", FUTURE_MONTH, message))
            elif kind == "unknown":
                message = unknown_customer_message(customer_id)
                errors.append(UsageRowError(row, "customer_id", UNKNOWN_CUSTOMER, message))
            else:
                message = duplicate_message(
                    first=first,
                    customer_id=customer_id,
                    year=year,
                    month=month,
                    numbered=self.numbered,
                )
                errors.append(UsageRowError(row, "month", DUPLICATE, message, first_row=first))
        bad = sum(counts.values())
        errors.sort(key=lambda e: (e.row, _FIELD_ORDER.get(e.field, 9)))
        return (errors[:cap] if cap else errors), bad

    # --- comparing and writing -------------------------------------------------------------

    def lock(self) -> None:
        """Take the write locks of the staged rows' customers until the transaction ends
        (PostgreSQL; SQLite writes one transaction at a time anyway): another recording of any
        of these customers waits, readers and recordings of other customers do not. Two
        recordings of a customer-month never interleave, so each revision's old value is what
        the row held.

        The locks are transaction-level advisory locks, one per bucket of customers
        (customer_id mod LOCK_BUCKETS, in namespace LOCK_NAMESPACE), taken in ascending order
        so two batches cannot deadlock; a batch holds at most LOCK_BUCKETS of them. It used to
        be one lock of the whole table, which made every one-row POST wait for every other
        (issue 14: 195 requests/s at 16 connections)."""
        if self.postgres:
            self._sql(
                "SELECT pg_advisory_xact_lock(%s, b.bucket) FROM (SELECT DISTINCT"
                f" (customer_id %% {LOCK_BUCKETS})::int AS bucket FROM {self.stage} s"
                " ORDER BY bucket) b",
                [LOCK_NAMESPACE],
            )

    def compare(self) -> UsageResult:
        """Keep the staged rows whose value differs from the recorded one (or that have none)
        for write(); count created, updated and unchanged. Call check() first: the rows must
        be good."""
        changed_rows = (
            "SELECT s.row_no, s.customer_id, s.year, s.month, s.api_usage AS new_value,"
            f" u.api_usage AS old_value FROM {self.stage} s LEFT JOIN {self.usage} u"
            f" ON {SAME_MONTH} WHERE u.id IS NULL OR u.api_usage <> s.api_usage"
        )
        if self.inline is not None:
            self.inline_diff = self._rows(changed_rows)
            changed = len(self.inline_diff)
            created = sum(1 for row in self.inline_diff if row[5] is None)
            return UsageResult(
                created=created, updated=changed - created, unchanged=self.staged - changed
            )
        self._sql(f"CREATE TEMP TABLE usage_diff AS {changed_rows}")
        if self.postgres:
            self._sql(f"ANALYZE {self.diff}")
        ((changed, created),) = self._rows(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN old_value IS NULL THEN 1 ELSE 0 END), 0)"
            f" FROM {self.diff}"
        )
        return UsageResult(
            created=created, updated=changed - created, unchanged=self.staged - changed
        )

    def changes(self, *, limit: int | None = None) -> list[UsageChange]:
        """The rows compare() kept, by row, with their customer's name; the first `limit`."""
        rows = self._rows(
            "SELECT d.row_no, d.customer_id, c.name, d.year, d.month, d.old_value, d.new_value"
            f" FROM {self.diff} d JOIN {Customer._meta.db_table} c ON c.id = d.customer_id"
            f" ORDER BY d.row_no{f' LIMIT {int(limit)}' if limit else ''}"
        )
        return [UsageChange(*row) for row in rows]

    def drifted(self, *, limit: int = 5) -> tuple[list[UsageChange], int]:
        """Staged rows whose recorded value is no longer the `expected` one staged with them
        (usage changed since a preview): (the first `limit`, as old = expected and new = now;
        how many)."""
        rows = self._rows(
            "SELECT s.row_no, s.customer_id, c.name, s.year, s.month, s.expected, u.api_usage,"
            f" COUNT(*) OVER () FROM {self.stage} s"
            f" JOIN {Customer._meta.db_table} c ON c.id = s.customer_id"
            f" LEFT JOIN {self.usage} u ON {SAME_MONTH}"
            " WHERE u.api_usage <> s.expected OR (u.api_usage IS NULL) <> (s.expected IS NULL)"
            f" ORDER BY s.row_no LIMIT {int(limit)}"
        )
        return [UsageChange(*row[:7]) for row in rows], (rows[0][-1] if rows else 0)

    def write(
        self, *, user: User, source: str, file_name: str = "", now: datetime | None = None
    ) -> UsageResult:
        """Lock, compare, then write the changed rows with one upsert and their revisions with
        one insert (old value, new value, `user`, `source`, `file_name`, `now`)."""
        self.lock()
        result = self.compare()
        if not result.changed:
            return result
        ops = connection.ops
        stamp = ops.adapt_datetimefield_value(now or timezone.now())
        # "WHERE true": SQLite would read the ON of ON CONFLICT as a join's otherwise.
        upsert = (
            f"INSERT INTO {self.usage} (customer_id, year, month, api_usage, created_at,"
            f" updated_at) SELECT customer_id, year, month, new_value, %s, %s FROM {self.diff} d"
            " WHERE true ON CONFLICT (customer_id, year, month) DO UPDATE"
            " SET api_usage = excluded.api_usage, updated_at = excluded.updated_at"
        )
        revision = (
            f"INSERT INTO {UsageRevision._meta.db_table} (usage_id, old_value, new_value,"
            " user_id, source, file_name, created_at)"
        )
        if self.postgres:
            # One statement: the upsert's RETURNING gives each row's id to its revision.
            self._sql(
                f"WITH u AS ({upsert} RETURNING id, customer_id, year, month) {revision}"
                " SELECT u.id, s.old_value, s.new_value, %s, %s, %s, %s"
                f" FROM {self.diff} s JOIN u ON {SAME_MONTH} ORDER BY s.row_no",
                [stamp, stamp, user.pk, source, file_name[:255], stamp],
            )
            return result
        self._sql(upsert, [stamp, stamp])
        self._sql(
            f"{revision} SELECT u.id, s.old_value, s.new_value, %s, %s, %s, %s"
            f" FROM {self.diff} s JOIN {self.usage} u ON {SAME_MONTH} ORDER BY s.row_no",
            [user.pk, source, file_name[:255], stamp],
        )
        return result

    # --- plumbing --------------------------------------------------------------------------

    def _sql(self, sql: str, params: list | None = None) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    def _rows(self, sql: str, params: list | None = None) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
