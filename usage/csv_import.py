"""Reading a usage CSV into items for usage.services.usage_record_many: the page and the shell.

The file's rules live here (UTF-8, at most 2 MB and 10,000 rows, a header naming the columns,
customers by id or by exact name); the rules of the values (whole numbers in range, a known
customer, a month that has started, each customer-month once) live in the service, which checks
every row in one pass. The service names bad items by index; `line_errors` turns that back into
CSV line numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models.functions import Lower

from billing_site.core import periods
from billing_site.core.errors import DomainError
from customers.models import Customer
from usage.models import Usage
from usage.services import FIELDS, MAX_ITEMS, UsageResult

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = MAX_ITEMS
VALUE_COLUMNS = ("year", "month", "api_usage")
HEADER = "customer_id,year,month,api_usage"
HEADER_BY_NAME = "customer,year,month,api_usage"
_COLUMN_ORDER = {"": 0, "customer_id": 1, "customer": 1, "year": 2, "month": 3, "api_usage": 4}
_DUPLICATE = re.compile(r"^Item (\d+) already sets this customer-month")


class CsvFileError(Exception):
    """The file as a whole cannot be read: not UTF-8, too big, no header, no rows."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RowError:
    line: int
    field: str  # a column of the file, or "" for the row as a whole
    message: str


@dataclass
class ParsedCsv:
    """`items[i]` came from CSV line `lines[i]`; `errors` are rows the parser could not read."""

    items: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    by_name: bool = False

    def recorded(self) -> list[tuple[int, int, int, int]]:
        """(customer_id, year, month, api_usage) of every row, once the service accepted them."""
        return [
            (int(i["customer_id"]), int(i["year"]), int(i["month"]), int(i["api_usage"]))
            for i in self.items
        ]


def parse_usage_csv(data: bytes) -> ParsedCsv:
    """Read the file into one item per row. Raises CsvFileError when the file cannot be read."""
    if len(data) > MAX_BYTES:
        raise CsvFileError(f"The file is over 2 MB; send at most {MAX_ROWS:,} rows at a time.")
    text = _decode(data)
    if not text.strip():
        raise CsvFileError("The file is empty.")
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        columns = _header(_next_row(reader))
        parsed = ParsedCsv(by_name="customer" in columns)
        rows = _data_rows(reader)
        for line, row in rows:
            if len(parsed.lines) == MAX_ROWS:
                raise CsvFileError(
                    f"The file has more than {MAX_ROWS:,} rows; split it and upload each part."
                )
            parsed.lines.append(line)
            parsed.items.append(_item(line, row, columns, parsed))
    except csv.Error as error:
        raise CsvFileError(
            f"Line {reader.line_num} could not be read as CSV ({error}); check its quotes."
        ) from error
    if not parsed.items:
        raise CsvFileError("The file has a header but no rows of usage.")
    if parsed.by_name:
        _resolve_names(parsed)
    return parsed


def line_errors(parsed: ParsedCsv, error: DomainError) -> list[RowError]:
    """The service's refusal of a batch, by CSV line, with the parser's own errors, sorted.

    Raises the error again when it is not about items (a forbidden user, say).
    """
    if error.kind != "invalid" or not error.errors:
        raise error
    if not all(str(key).isdigit() for key in error.errors):
        raise error
    unread = {e.line for e in parsed.errors}
    found = set(parsed.errors)
    customer_column = "customer" if parsed.by_name else "customer_id"
    for index, fields in error.errors.items():
        line = parsed.lines[int(index)]
        if line in unread:
            continue  # the parser already said why; the service only saw empty fields
        for name, messages in fields.items():  # type: ignore[union-attr]
            column = customer_column if name == "customer_id" else name
            for message in messages:
                found.add(RowError(line, column, _in_lines(message, parsed)))
    return sorted(found, key=lambda e: (e.line, _COLUMN_ORDER.get(e.field, 9), e.message))


def recorded_summary(result: UsageResult) -> str:
    total = result.created + result.updated
    return (
        f"Recorded {total:,} month{'s' * (total != 1)}: "
        f"{result.created:,} new, {result.updated:,} updated."
    )


def template_rows() -> list[list[Any]]:
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


# --- reading ---------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    try:
        # utf-8-sig: Excel's "CSV UTF-8" starts with a byte order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CsvFileError(
            f"The file is not UTF-8 text (line {line} has a byte that is not UTF-8). "
            "In Excel, save it as “CSV UTF-8”."
        ) from error
    if "\x00" in text:
        # Not text (a spreadsheet's binary format, say); PostgreSQL also refuses NUL in strings.
        line = text[: text.index("\x00")].count("\n") + 1
        raise CsvFileError(
            f"Line {line} has a NUL character: this is not a CSV text file. Save it as “CSV UTF-8”."
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
        raise CsvFileError(f"The first line must be the header {expected}; it reads “{shown}”.")
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
        raise CsvFileError(f"Wrong columns: {'; '.join(problems)}. The header must be {expected}.")
    return columns


def _data_rows(reader) -> Iterable[tuple[int, list[str]]]:
    """(line where the row starts, cells), skipping blank rows."""
    last_line = reader.line_num
    for row in reader:
        start, last_line = last_line + 1, reader.line_num
        if any(cell.strip() for cell in row):
            yield start, row


def _item(line: int, row: list[str], columns: list[str], parsed: ParsedCsv) -> dict[str, Any]:
    cells = [cell.strip() for cell in row]
    while len(cells) > len(columns) and not cells[-1]:
        cells.pop()
    if len(cells) != len(columns):
        parsed.errors.append(
            RowError(line, "", f"Expected {len(columns)} values, found {len(cells)}.")
        )
        return _unreadable()
    values = dict(zip(columns, cells, strict=True))
    # Blank is None, so the service says "required" rather than "not a number".
    item = {name: values.get(name) or None for name in FIELDS}
    if parsed.by_name:
        item["customer_id"] = values["customer"] or None
    return item


def _unreadable() -> dict[str, Any]:
    # A row the parser could not read still goes to the service, with every field empty: the
    # service refuses it, so nothing is written, and still checks every other row in the same
    # pass, so one upload lists every problem. Its own messages for the row are dropped.
    return dict.fromkeys(FIELDS)


def _resolve_names(parsed: ParsedCsv) -> None:
    """Exact names to ids: two queries however many rows (the second only for unknown names)."""
    names = {item["customer_id"] for item in parsed.items if item["customer_id"]}
    ids: dict[str, list[int]] = {}
    for name, pk in Customer.objects.filter(name__in=names).values_list("name", "id"):
        ids.setdefault(name, []).append(pk)
    unknown = names - set(ids)
    close: dict[str, str] = {}
    if unknown:
        lowered = {n.lower() for n in unknown}
        for name in (
            Customer.objects.annotate(lname=Lower("name"))
            .filter(lname__in=lowered)
            .values_list("name", flat=True)
        ):
            close.setdefault(name.lower(), name)
    for index, item in enumerate(parsed.items):
        name, line = item["customer_id"], parsed.lines[index]
        if name is None:
            continue  # blank, or a row already refused: the service says why
        matches = ids.get(name, [])
        if len(matches) == 1:
            item["customer_id"] = matches[0]
            continue
        if matches:
            listed = ", ".join(str(pk) for pk in sorted(matches))
            message = f"Several customers are named “{name}” (ids {listed}); use customer_id."
        else:
            hint = close.get(name.lower())
            message = f"No customer is named “{name}”" + (
                f"; did you mean “{hint}”?" if hint else "."
            )
        parsed.errors.append(RowError(line, "customer", message))
        parsed.items[index] = _unreadable()


def _in_lines(message: str, parsed: ParsedCsv) -> str:
    match = _DUPLICATE.match(message)
    if match:
        return f"Line {parsed.lines[int(match[1])]} already sets this customer-month; keep one."
    return message
