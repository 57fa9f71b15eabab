"""A usage CSV file on the record page: read it, preview it, say what was recorded.

The file's rules are usage.csv_reader's (shared with `import_usage`); this module adds the page's
limits (MAX_BYTES, MAX_ROWS), collects the readable rows with their lines, and asks
usage.services.uploads for the preview, with every problem of the file, the reader's and the
batch's, as CsvLineErrors in one pass.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import BinaryIO

from accounts.models import User
from billing_site.core import periods
from billing_site.core.errors import DomainError
from customers.models import Customer
from usage.csv_reader import (
    COLUMN_ORDER,
    HEADER,
    HEADER_BY_NAME,
    CsvFileError,
    CsvLineError,
    UsageCsv,
    line_error,
)
from usage.models import Usage
from usage.services import (
    MAX_FILE_ROWS,
    StagedRow,
    UsagePreview,
    UsageResult,
    UsageRowsError,
    usage_lines_check,
    usage_upload_preview,
)

__all__ = ["HEADER", "HEADER_BY_NAME", "CsvFileError", "CsvLineError"]

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = MAX_FILE_ROWS


class CsvRowsError(DomainError):
    """Lines of the file refused; nothing was recorded. `line_errors`: the problems by line and
    column (the first ones, when a big file's list is capped); `bad_lines`: how many lines have
    one."""

    def __init__(self, line_errors: list[CsvLineError], *, bad_lines: int | None = None):
        listed = len({e.line for e in line_errors})
        self.bad_lines = max(bad_lines or 0, listed)
        bad = self.bad_lines
        super().__init__(
            f"Nothing was recorded; {bad:,} line{'s' * (bad != 1)} of the file to fix.",
            kind="invalid",
        )
        self.line_errors = sorted(
            line_errors, key=lambda e: (e.line, COLUMN_ORDER.get(e.field, 9), e.message)
        )


@dataclass
class ParsedCsv:
    """The rows that could be read, each (line, customer_id, year, month, api_usage), and the
    problems of the lines that could not (`errors`). `by_name`: the file names customers."""

    rows: list[StagedRow] = field(default_factory=list)
    errors: list[CsvLineError] = field(default_factory=list)
    by_name: bool = False


def parse_usage_csv(data: bytes | BinaryIO) -> ParsedCsv:
    """Read a file (its bytes, or a binary stream) of at most MAX_BYTES and MAX_ROWS rows into
    rows with their line numbers, and the problems of the lines that could not be read (the
    wrong number of cells, a name that is no one's, a value that is not digits). Ranges and the
    rules that need the database are the preview's.

    Raises CsvFileError when the file as a whole cannot be read.
    """
    if isinstance(data, bytes | bytearray):
        if len(data) > MAX_BYTES:
            raise CsvFileError(too_big_message(len(data)), code="too_big")
        data = io.BytesIO(data)
    reader = UsageCsv(data, max_rows=MAX_ROWS)
    parsed = ParsedCsv(by_name=reader.by_name)
    for item in reader.rows():
        if isinstance(item, list):
            parsed.errors += item
        else:
            parsed.rows.append(item)
    if not parsed.rows and not parsed.errors:
        raise CsvFileError("The file has a header but no rows of usage.", code="no_rows")
    return parsed


def usage_preview_csv(*, parsed: ParsedCsv, file_name: str, user: User) -> UsagePreview:
    """Preview a parsed file (usage.services.uploads.usage_upload_preview): what its Confirm
    would create, update and leave unchanged; nothing is written but the preview.

    A file with lines that could not be read is refused; its readable rows are still checked,
    so the refusal lists every problem of the file in one pass.

    Raises CsvRowsError with the problems by line (a customer-month set twice is "Line N already
    sets customer C, YYYY-MM; keep one.", N the line that set it first); DomainError(kind=
    "forbidden") for a role that may not record usage.
    """
    if parsed.errors:
        found = usage_lines_check(rows=parsed.rows, user=user)
        raise CsvRowsError(parsed.errors + _on_lines(found, parsed))
    try:
        return usage_upload_preview(rows=parsed.rows, file_name=file_name, user=user)
    except UsageRowsError as error:
        lines = _on_lines(error.row_errors, parsed)
        raise CsvRowsError(lines, bad_lines=error.bad_rows) from error


def recorded_summary(result: UsageResult, *, verb: str = "Recorded") -> str:
    """ "Recorded 12,000 rows, 0 changed: 0 new, 0 updated, 12,000 unchanged." """
    total = result.total
    return (
        f"{verb} {total:,} row{'s' * (total != 1)}, {result.changed:,} changed: "
        f"{result.created:,} new, {result.updated:,} updated, {result.unchanged:,} unchanged."
    )


def template_rows() -> list[list[object]]:
    """Rows for the downloadable template: two customers with their last month as recorded.

    Re-uploading the template unchanged changes nothing: a blank usage is refused, a recorded
    one is unchanged.
    """
    year, month = periods.last_ended_month()
    customers = list(Customer.objects.order_by("name", "id")[:2])
    recorded = dict(
        Usage.objects.filter(customer__in=customers, year=year, month=month).values_list(
            "customer_id", "api_usage"
        )
    )
    return [[c.pk, year, month, recorded.get(c.pk, "")] for c in customers]


# Where each field of a StagedRow (line, customer_id, year, month, api_usage) is.
_STAGED_AT = {"customer_id": 1, "year": 2, "month": 3, "api_usage": 4}


def _on_lines(errors, parsed: ParsedCsv) -> list[CsvLineError]:
    # The batch numbers a file's rows by their lines already; the value at fault is the row's.
    if not errors:
        return []
    by_line = {row[0]: row for row in parsed.rows}
    found = []
    for error in errors:
        row, at = by_line.get(error.row), _STAGED_AT.get(error.field)
        value = row[at] if row is not None and at is not None else None
        found.append(line_error(error, line=error.row, by_name=parsed.by_name, value=value))
    return found


def too_big_message(size: int) -> str:
    """What the page says of a file over MAX_BYTES (the form checks the size before reading)."""
    return (
        f"The file is {size / 1024 / 1024:.1f} MB; the page takes at most "
        f"{MAX_BYTES // 1024 // 1024} MB ({MAX_ROWS:,} rows). Split it, or record it from the "
        "shell with manage.py import_usage."
    )
