"""The usage CSV file's rules, read as a stream: the record page and `import_usage` share them.

UTF-8 (a byte order mark is fine), commas or semicolons, a header naming the columns in any
order, customers by id or by exact name, blank lines skipped while line numbers still count them.
The file is read line by line and never held whole. Each line's values are read as digits (a
fast path for plain digits, the row schema's `usage_row_parse` for anything else, which words
the refusal); their ranges and every rule that needs the database are checked set-based by
usage.services.batch. A problem of the file as a whole is a CsvFileError; a problem of a line is
a CsvLineError (line, column, code, message), so one pass lists them all.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import BinaryIO

from customers.models import Customer
from usage.services.batch import StagedRow
from usage.services.rows import TEXT, UsageRowError, usage_row_parse

VALUE_COLUMNS = ("year", "month", "api_usage")
HEADER = "customer_id,year,month,api_usage"
HEADER_BY_NAME = "customer,year,month,api_usage"
COLUMN_ORDER = {"": 0, "customer_id": 1, "customer": 1, "year": 2, "month": 3, "api_usage": 4}

# CsvLineError.code, on top of usage.services.rows' codes.
WRONG_CELL_COUNT = "wrong_cell_count"
UNKNOWN_NAME = "unknown_name"
AMBIGUOUS_NAME = "ambiguous_name"

# Plain digits this long always fit a 64-bit column; their ranges are checked in SQL.
_FAST_DIGITS = 18


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
    customers), or "" for the row as a whole; `code` is usage.services.rows' or this module's;
    `value` is the cell at fault as the file has it (the whole line's cells for a row with the
    wrong number of them; "" for an empty cell, None when not known)."""

    line: int
    field: str
    code: str
    message: str
    value: str | None = None


class UsageCsv:
    """A usage file opened for reading: the header is read at once (CsvFileError if it is
    wrong); `rows()` then yields each line's StagedRow (line, customer_id, year, month,
    api_usage) or its CsvLineErrors, one line at a time. `max_rows` refuses a longer file
    (too_many_rows) as soon as it is passed."""

    def __init__(self, stream: BinaryIO, *, max_rows: int | None = None):
        self.max_rows = max_rows
        self.count = 0  # data rows read so far (blank lines aside)
        lines = _text_lines(stream)
        head = []
        for line in lines:
            head.append(line)
            if line.strip():
                break
        if not head or not head[-1].strip():
            raise CsvFileError("The file is empty.", code="empty")
        # Spreadsheets in locales with a decimal comma save CSV with semicolons.
        delimiter = ";" if ";" in head[-1] and "," not in head[-1] else ","
        self._reader = csv.reader(chain(head, lines), delimiter=delimiter, strict=True)
        self.columns = self._guard(lambda: _header(_next_row(self._reader)))
        self.by_name = "customer" in self.columns
        self._names = CustomerNames() if self.by_name else None

    def rows(self) -> Iterator[StagedRow | list[CsvLineError]]:
        return self._guard_iter(self._rows())

    def _rows(self) -> Iterator[StagedRow | list[CsvLineError]]:
        reader, width = self._reader, len(self.columns)
        # Where each field's cell is: the customer (id or name), year, month, api_usage.
        at = [self.columns.index(c) for c in ("customer" if self.by_name else "customer_id",)]
        at += [self.columns.index(c) for c in VALUE_COLUMNS]
        last_line = reader.line_num
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            cells = [cell.strip() for cell in cells]
            if not any(cells):
                continue
            self.count += 1
            if self.max_rows is not None and self.count > self.max_rows:
                raise CsvFileError(
                    f"The file has more than {self.max_rows:,} rows; split it, or record it "
                    "from the shell with manage.py import_usage.",
                    code="too_many_rows",
                )
            while len(cells) > width and not cells[-1]:
                cells.pop()
            if len(cells) != width:
                joined = reader.dialect.delimiter.join(cells)
                message = f"Expected {width} values, found {len(cells)}: {_shown(joined)}."
                yield [CsvLineError(line, "", WRONG_CELL_COUNT, message, joined)]
                continue
            yield self._row(line, cells[at[0]], cells[at[1]], cells[at[2]], cells[at[3]])

    def _row(
        self, line: int, customer: str, year: str, month: str, api_usage: str
    ) -> StagedRow | list[CsvLineError]:
        customer_id: object = customer
        if self._names is not None:
            customer_id = self._names.resolve(customer) if customer else None
            if isinstance(customer_id, tuple):
                code, message = customer_id
                return [CsvLineError(line, "customer", code, message, customer)]
            customer = str(customer_id or "")
        # The fast path: four cells of plain ASCII digits, at most 18 each (a 64-bit column
        # holds them; their ranges are checked in SQL). Anything else gets the schema's words.
        digits = customer + year + month + api_usage
        if (
            digits.isdigit()
            and digits.isascii()
            and 0 < len(customer) <= _FAST_DIGITS
            and 0 < len(year) <= _FAST_DIGITS
            and 0 < len(month) <= _FAST_DIGITS
            and 0 < len(api_usage) <= _FAST_DIGITS
        ):
            return (line, int(customer), int(year), int(month), int(api_usage))
        raw = {"customer_id": customer_id, "year": year, "month": month, "api_usage": api_usage}
        row, errors = usage_row_parse(raw=raw, row=line, source=TEXT)
        if row is None:
            return [
                line_error(e, line=line, by_name=self.by_name, value=raw.get(e.field))
                for e in errors
            ]
        return (line, *row)

    def _guard(self, read):
        try:
            return read()
        except csv.Error as error:
            raise self._bad_quoting(error) from error

    def _guard_iter(self, rows):
        try:
            yield from rows
        except csv.Error as error:
            raise self._bad_quoting(error) from error

    def _bad_quoting(self, error: csv.Error) -> CsvFileError:
        line = self._reader.line_num
        return CsvFileError(
            f"Line {line} could not be read as CSV ({error}); check its quotes.",
            code="bad_quoting",
            line=line,
        )


def line_error(
    error: UsageRowError, *, line: int, by_name: bool, value: object = None
) -> CsvLineError:
    """A row schema's or a batch's error, on its line and in the file's columns, with the
    cell at fault (`value`) when the caller knows it."""
    column = "customer" if by_name and error.field == "customer_id" else error.field
    shown = None if value is None else str(value)
    return CsvLineError(line, column, error.code, error.message, shown)


class CustomerNames:
    """Exact customer names to ids, read in one query when made (memory grows with the
    customers, never with the file; and no query runs while the rows stream into a COPY). A
    name that is no one's (with a hint for a name that differs only in case) or several
    customers' resolves to (code, message)."""

    def __init__(self):
        self._ids: dict[str, list[int]] = {}
        self._lowered: dict[str, str] = {}
        for known, pk in Customer.objects.order_by("id").values_list("name", "id"):
            self._ids.setdefault(known, []).append(pk)
            self._lowered.setdefault(known.lower(), known)

    def resolve(self, name: str) -> int | tuple[str, str]:
        found = self._ids.get(name, [])
        if len(found) == 1:
            return found[0]
        if found:
            listed = ", ".join(str(pk) for pk in found)
            message = f"Several customers are named “{name}” (ids {listed}); use customer_id."
            return AMBIGUOUS_NAME, message
        hint = self._lowered.get(name.lower())
        return UNKNOWN_NAME, f"No customer is named “{name}”" + (
            f"; did you mean “{hint}”?" if hint else "."
        )


# --- reading ---------------------------------------------------------------------------------


def _text_lines(stream: BinaryIO) -> Iterator[str]:
    """The file's lines as text, with their endings (\\n, \\r\\n or \\r), decoded as they come."""
    # utf-8-sig: Excel's "CSV UTF-8" starts with a byte order mark.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    count = 0
    try:
        for line in text:
            count += 1
            if "\x00" in line:
                # Not text (a spreadsheet's binary format, say); PostgreSQL refuses NUL too.
                raise CsvFileError(
                    f"Line {count} has a NUL character: this is not a CSV text file. "
                    "Save it as “CSV UTF-8”.",
                    code="nul",
                    line=count,
                )
            yield line
    except UnicodeDecodeError as error:
        # The bad byte is in the chunk being decoded, after the lines already read.
        line = count + 1 + bytes(error.object[: error.start]).count(b"\n")
        raise CsvFileError(
            f"The file is not UTF-8 text (line {line} has a byte that is not UTF-8). "
            "In Excel, save it as “CSV UTF-8”.",
            code="not_utf8",
            line=line,
        ) from error
    finally:
        # Leave the stream open for its owner (stdin, an upload); it may be closed already.
        with contextlib.suppress(ValueError):
            text.detach()


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


def _shown(text: str) -> str:
    return f"“{text if len(text) <= 30 else text[:29] + '…'}”"
