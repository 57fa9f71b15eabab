"""The SQL text of usage.services.batch.UsageBatch: the checks' query, the VALUES list a small
batch is staged as, and the lines COPY sends."""

# ruff: noqa: S608 - built from table names and constants; the only values written into the text
# are ints (int() of each) and today's date.

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from itertools import islice

from billing_site.core import periods
from customers.models import Customer
from usage.services.rows import MAX_ID, MAX_USAGE

# (row number, customer_id, year, month, api_usage[, the value expected now or None]).
StagedRow = tuple[int, ...]

CHUNK = 10_000


def check_sql(stage: str, *, today: date, cap: int | None = None) -> str:
    """One query of every staged row's problems (UsageBatch.check): rows of (kind, row,
    customer_id, year, month, api_usage, first row of a duplicate or NULL, how many rows of
    that kind), kind "range", "future", "unknown" or "twice"; at most `cap` rows of each kind
    when given. `stage`: the staged rows' table, or a parenthesized subquery (values())."""
    limit = f" ORDER BY s.row_no LIMIT {int(cap)}" if cap else " ORDER BY s.row_no"
    # Compared, not computed (year * 12 + month): an unchecked year could overflow.
    future_sql = f"s.year > {today.year} OR (s.year = {today.year} AND s.month > {today.month})"
    ok = f"({IN_RANGE}) AND NOT ({future_sql})"
    customers = Customer._meta.db_table
    # Each kind's rows as (kind, row, customer_id, year, month, api_usage, first row of a
    # duplicate, how many rows of that kind).
    kinds = {
        "range": "SELECT 'range', s.row_no, s.customer_id, s.year, s.month, s.api_usage,"
        f" CAST(NULL AS BIGINT), COUNT(*) OVER () FROM {stage} s"
        f" WHERE NOT ({IN_RANGE}){limit}",
        "future": "SELECT 'future', s.row_no, s.customer_id, s.year, s.month, s.api_usage,"
        f" CAST(NULL AS BIGINT), COUNT(*) OVER () FROM {stage} s"
        f" WHERE ({IN_RANGE}) AND ({future_sql}){limit}",
        "unknown": "SELECT 'unknown', s.row_no, s.customer_id, s.year, s.month, s.api_usage,"
        f" CAST(NULL AS BIGINT), COUNT(*) OVER () FROM {stage} s"
        f" LEFT JOIN {customers} c ON c.id = s.customer_id"
        f" WHERE {ok} AND c.id IS NULL{limit}",
        "twice": f"WITH ok AS (SELECT s.* FROM {stage} s JOIN {customers} c"
        f" ON c.id = s.customer_id WHERE {ok}),"
        " firsts AS (SELECT customer_id, year, month, MIN(row_no) AS first_row FROM ok"
        " GROUP BY customer_id, year, month HAVING COUNT(*) > 1)"
        " SELECT 'twice', s.row_no, s.customer_id, s.year, s.month, s.api_usage,"
        " f.first_row, COUNT(*) OVER () FROM ok s JOIN firsts f"
        " ON f.customer_id = s.customer_id AND f.year = s.year AND f.month = s.month"
        f" WHERE s.row_no <> f.first_row{limit}",
    }
    return " UNION ALL ".join(f"SELECT * FROM ({sql}) AS {kind}" for kind, sql in kinds.items())


IN_RANGE = (
    f"s.customer_id BETWEEN 1 AND {MAX_ID} AND s.year BETWEEN {periods.MIN_YEAR}"
    f" AND {periods.MAX_YEAR} AND s.month BETWEEN 1 AND 12"
    f" AND s.api_usage BETWEEN 0 AND {MAX_USAGE}"
)
SAME_MONTH = "u.customer_id = s.customer_id AND u.year = s.year AND u.month = s.month"


def chunks(rows: Iterable[StagedRow]) -> Iterator[list[StagedRow]]:
    """`rows` in lists of at most CHUNK, consumed as they come."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


def values(rows: list[tuple], columns: tuple[str, ...], *, empty: bool = False) -> str:
    """`rows` (tuples of ints or None) as a parenthesized subquery with these column names,
    each a BIGINT; `empty`: no rows (the one row given only types the columns). Only ints are
    written into the text: int() of each value, never a string from outside."""
    literal = ", ".join(
        "(" + ", ".join("NULL" if v is None else str(int(v)) for v in row) + ")" for row in rows
    )
    names = ", ".join(
        f"CAST(column{i} AS BIGINT) AS {name}" for i, name in enumerate(columns, start=1)
    )
    where = " WHERE 1 = 0" if empty else ""
    return f"(SELECT {names} FROM (VALUES {literal}) AS v{where})"


def six(row: StagedRow) -> tuple:
    """The row with its sixth value, `expected` (None when the row has five)."""
    return tuple(row) if len(row) == 6 else (*row, None)


def copy_line(row: StagedRow) -> str:
    """The row as one line of COPY's text format (tab-separated, \\N for no `expected`)."""
    expected = row[5] if len(row) == 6 else None
    tail = "\\N" if expected is None else str(expected)
    return f"{row[0]}\t{row[1]}\t{row[2]}\t{row[3]}\t{row[4]}\t{tail}\n"
