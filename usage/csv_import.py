"""Reading a usage CSV file, and recording it through usage.services: the page and the shell.

The file's rules live here: UTF-8, at most 2 MB and 10,000 rows, a header naming the columns,
commas or semicolons, customers by id or by exact name. Each line's values go through the one
row schema (usage.services.usage_row_parse); the rules that need the database or the date (a
known customer, a month that has started, each customer-month once) are the service's. Every
problem is data with its line, column and code, so one upload lists them all in one pass.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models.functions import Lower

from accounts.models import User
from billing_site.core import periods
from billing_site.core.errors import DomainError
from customers.models import Customer
from usage.models import Usage
from usage.services import (
    DUPLICATE,
    FIELDS,
    MAX_ITEMS,
    TEXT,
    UsageResult,
    UsageRow,
    UsageRowError,
    UsageRowsError,
    usage_check_many,
    usage_record_many,
    usage_row_parse,
)

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = MAX_ITEMS
VALUE_COLUMNS = ("year", "month", "api_usage")
HEADER = "customer_id,year,month,api_usage"
HEADER_BY_NAME = "customer,year,month,api_usage"
_COLUMN_ORDER = {"": 0, "customer_id": 1, "customer": 1, "year": 2, "month": 3, "api_usage": 4}

# CsvLineError.code, on top of usage.services' codes.
WRONG_CELL_COUNT = "wrong_cell_count"
UNKNOWN_NAME = "unknown_name"
AMBIGUOUS_NAME = "ambiguous_name"


class CsvFileError(Exception):
    """The file as a whole cannot be read. `code`: too_big, not_utf8, nul, empty, no_header,
    wrong_columns, no_rows, too_many_rows, bad_quoting; `line` where one is to blame."""

    def __init__(self, message: str, *, code: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.line = line


@dataclass(frozen=True)
class CsvLineError:
    """A problem of one line: `field` is a column of the file ("customer" in a file that names
    customers), or "" for the row as a whole; `code` is usage.services' or this module's."""

    line: int
    field: str
    code: str
    message: str


class CsvRowsError(DomainError):
    """Lines of the file refused; nothing was recorded. `line_errors`: every problem of the
    file, by line and column."""

    def __init__(self, line_errors: list[CsvLineError]):
        bad = len({e.line for e in line_errors})
        super().__init__(
            f"Nothing was recorded; {bad} line{'s' * (bad != 1)} of the file to fix.",
            kind="invalid",
        )
        self.line_errors = sorted(
            line_errors, key=lambda e: (e.line, _COLUMN_ORDER.get(e.field, 9), e.message)
        )


@dataclass
class ParsedCsv:
    """The rows that could be read, `rows[i]` from line `lines[i]`, and the lines that could
    not (`errors`). `by_name`: the file names customers rather than giving their ids."""

    rows: list[UsageRow] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    errors: list[CsvLineError] = field(default_factory=list)
    by_name: bool = False


def parse_usage_csv(data: bytes) -> ParsedCsv:
    """Read the file's bytes into typed rows with their line numbers, and the problems of the
    lines that could not be read (the wrong number of cells, a name that is no one's, a value
    the row schema refuses). Blank lines are skipped; line numbers count them.

    Raises CsvFileError when the file as a whole cannot be read.
    """
    if len(data) > MAX_BYTES:
        raise CsvFileError(
            f"The file is over 2 MB; send at most {MAX_ROWS:,} rows at a time.", code="too_big"
        )
    text = _decode(data)
    if not text.strip():
        raise CsvFileError("The file is empty.", code="empty")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    parsed = ParsedCsv()
    try:
        columns = _header(_next_row(reader))
        parsed.by_name = "customer" in columns
        lines = _read_lines(reader, columns, parsed)
    except csv.Error as error:
        raise CsvFileError(
            f"Line {reader.line_num} could not be read as CSV ({error}); check its quotes.",
            code="bad_quoting",
            line=reader.line_num,
        ) from error
    if not lines and not parsed.errors:
        raise CsvFileError("The file has a header but no rows of usage.", code="no_rows")
    ids, refused = _resolve_names(lines) if parsed.by_name else ({}, {})
    for line, values in lines:
        raw: dict[str, object] = {name: values.get(name) or None for name in FIELDS}
        if parsed.by_name:
            name = values["customer"]
            if name in refused:
                # Its id is unknown, so the service could not check the rest of the row anyway.
                code, message = refused[name]
                parsed.errors.append(CsvLineError(line, "customer", code, message))
                continue
            raw["customer_id"] = ids.get(name)
        row, errors = usage_row_parse(raw=raw, row=line, source=TEXT)
        if row is None:
            parsed.errors.extend(_on_line(e, line, parsed) for e in errors)
        else:
            parsed.rows.append(row)
            parsed.lines.append(line)
    return parsed


def usage_record_csv(*, parsed: ParsedCsv, user: User) -> UsageResult:
    """Record a parsed file's rows with usage_record_many: all or nothing, each row sets its
    customer-month's total (API calls).

    A file with lines it could not read records nothing; its readable rows are still checked
    (usage_check_many), so the refusal lists every problem of the file in one pass.

    Raises CsvRowsError with every problem by line (a customer-month set twice is "Line N
    already sets this customer-month; keep one.", N the line that set it first);
    DomainError(kind="forbidden") for a role that may not record usage.
    """
    if parsed.errors:
        found = usage_check_many(items=parsed.rows, user=user)
        raise CsvRowsError(parsed.errors + [_of_row(e, parsed) for e in found])
    try:
        return usage_record_many(items=parsed.rows, user=user)
    except UsageRowsError as error:
        raise CsvRowsError([_of_row(e, parsed) for e in error.row_errors]) from error


def recorded_summary(result: UsageResult) -> str:
    total = result.created + result.updated
    return (
        f"Recorded {total:,} month{'s' * (total != 1)}: "
        f"{result.created:,} new, {result.updated:,} updated."
    )


def template_rows() -> list[list[object]]:
    """Rows for the downloadable template: two customers with their last month as recorded.

    Re-uploading the template unchanged changes nothing: a blank usage is refused, a recorded
    one is set to what it already is.
    """
    year, month = periods.last_ended_month()
    customers = list(Customer.objects.order_by("name", "id")[:2])
    recorded = dict(
        Usage.objects.filter(customer__in=customers, year=year, month=month).values_list(
            "customer_id", "api_usage"
        )
    )
    return [[c.pk, year, month, recorded.get(c.pk, "")] for c in customers]


# --- line errors ------------------------------------------------------------------------------


def _on_line(error: UsageRowError, line: int, parsed: ParsedCsv) -> CsvLineError:
    column = "customer" if parsed.by_name and error.field == "customer_id" else error.field
    return CsvLineError(line, column, error.code, error.message)


def _of_row(error: UsageRowError, parsed: ParsedCsv) -> CsvLineError:
    """A service error about parsed.rows[error.row], on its line; a duplicate names the line
    that set the customer-month first."""
    line_error = _on_line(error, parsed.lines[error.row], parsed)
    if error.code == DUPLICATE and error.first_row is not None:
        first = parsed.lines[error.first_row]
        message = f"Line {first} already sets this customer-month; keep one."
        line_error = CsvLineError(line_error.line, line_error.field, error.code, message)
    return line_error


# --- reading ---------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    try:
        # utf-8-sig: Excel's "CSV UTF-8" starts with a byte order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CsvFileError(
            f"The file is not UTF-8 text (line {line} has a byte that is not UTF-8). "
            "In Excel, save it as “CSV UTF-8”.",
            code="not_utf8",
            line=line,
        ) from error
    if "\x00" in text:
        # Not text (a spreadsheet's binary format, say); PostgreSQL also refuses NUL in strings.
        line = text[: text.index("\x00")].count("\n") + 1
        raise CsvFileError(
            f"Line {line} has a NUL character: this is not a CSV text file. "
            "Save it as “CSV UTF-8”.",
            code="nul",
            line=line,
        )
    return text


def _delimiter(text: str) -> str:
    # Spreadsheets in locales with a decimal comma save CSV with semicolons.
    first = text.lstrip().split("\n", 1)[0]
    return ";" if ";" in first and "," not in first else ","


def _next_row(reader) -> list[str]:
    for row in reader:
        if any(cell.strip() for cell in row):
            return row
    return []  # pragma: no cover - an empty text was refused before


def _header(row: list[str]) -> list[str]:
    # "Customer ID" and "API usage" as a spreadsheet might title them are the same columns.
    columns = [re.sub(r"[\s-]+", "_", cell.strip().lower()) for cell in row]
    while columns and not columns[-1]:
        columns.pop()  # a spreadsheet's trailing empty cells
    known = {"customer_id", "customer", *VALUE_COLUMNS}
    expected = f"{HEADER} (or {HEADER_BY_NAME})"
    if not known & set(columns):
        shown = ",".join(cell.strip() for cell in row)[:80]
        raise CsvFileError(
            f"The first line must be the header {expected}; it reads “{shown}”.",
            code="no_header",
        )
    problems = []
    unknown = [c for c in columns if c not in known]
    if unknown:
        names = ", ".join(f"“{c}”" if c else "an empty one" for c in unknown)
        problems.append(f"unknown column{'s' * (len(unknown) > 1)} {names}")
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if repeated:
        problems.append(f"{', '.join(repeated)} more than once")
    if {"customer_id", "customer"} <= set(columns):
        problems.append("both customer_id and customer (give one)")
    missing = [c for c in VALUE_COLUMNS if c not in columns]
    if not {"customer_id", "customer"} & set(columns):
        missing.insert(0, "customer_id")
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if problems:
        raise CsvFileError(
            f"Wrong columns: {'; '.join(problems)}. The header must be {expected}.",
            code="wrong_columns",
        )
    return columns


def _data_rows(reader) -> Iterable[tuple[int, list[str]]]:
    """(line where the row starts, cells), skipping blank rows."""
    last_line = reader.line_num
    for row in reader:
        start, last_line = last_line + 1, reader.line_num
        if any(cell.strip() for cell in row):
            yield start, row


def _read_lines(reader, columns: list[str], parsed: ParsedCsv) -> list[tuple[int, dict[str, str]]]:
    """(line, cells by column) of each row with as many cells as columns; the others are
    errors of their line."""
    lines: list[tuple[int, dict[str, str]]] = []
    count = 0
    for line, row in _data_rows(reader):
        count += 1
        if count > MAX_ROWS:
            raise CsvFileError(
                f"The file has more than {MAX_ROWS:,} rows; split it and upload each part.",
                code="too_many_rows",
            )
        cells = [cell.strip() for cell in row]
        while len(cells) > len(columns) and not cells[-1]:
            cells.pop()
        if len(cells) != len(columns):
            message = f"Expected {len(columns)} values, found {len(cells)}."
            parsed.errors.append(CsvLineError(line, "", WRONG_CELL_COUNT, message))
            continue
        lines.append((line, dict(zip(columns, cells, strict=True))))
    return lines


def _resolve_names(
    lines: list[tuple[int, dict[str, str]]],
) -> tuple[dict[str, int], dict[str, tuple[str, str]]]:
    """Exact names to ids, and the names refused (code, message): two queries however many
    rows, the second only for unknown names."""
    names = {values["customer"] for _, values in lines if values["customer"]}
    matches: dict[str, list[int]] = {}
    for name, pk in Customer.objects.filter(name__in=names).values_list("name", "id"):
        matches.setdefault(name, []).append(pk)
    close: dict[str, str] = {}
    unknown = names - set(matches)
    if unknown:
        lowered = {n.lower() for n in unknown}
        for name in (
            Customer.objects.annotate(lname=Lower("name"))
            .filter(lname__in=lowered)
            .values_list("name", flat=True)
        ):
            close.setdefault(name.lower(), name)
    ids: dict[str, int] = {}
    refused: dict[str, tuple[str, str]] = {}
    for name in names:
        found = matches.get(name, [])
        if len(found) == 1:
            ids[name] = found[0]
        elif found:
            listed = ", ".join(str(pk) for pk in sorted(found))
            message = f"Several customers are named “{name}” (ids {listed}); use customer_id."
            refused[name] = (AMBIGUOUS_NAME, message)
        else:
            hint = close.get(name.lower())
            message = f"No customer is named “{name}”" + (
                f"; did you mean “{hint}”?" if hint else "."
            )
            refused[name] = (UNKNOWN_NAME, message)
    return ids, refused
