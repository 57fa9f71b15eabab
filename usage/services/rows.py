"""The one row schema of usage, for every way it comes in: a JSON item, a CSV line, a form.

`usage_row_parse` reads one raw row into a `UsageRow` or `UsageRowError`s, each number by its
source's grammar (core.numbers: a JSON item takes JSON integers only, a CSV cell or a form field
digits). The rules that need the database or today's date (a known customer, a month that has
started, each customer-month once) are checked set-based by usage.services.batch; their
sentences are here, so every path words a refusal the same way. Every message names the value it
refuses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

from billing_site.core import numbers, periods
from billing_site.core.errors import DomainError

MAX_USAGE = numbers.MAX_INT64
MAX_ID = numbers.MAX_INT64
FIELDS = ("customer_id", "year", "month", "api_usage")

# Where a raw row comes from, which decides how its numbers are read (usage_row_parse).
JSON = "json"
TEXT = "text"
Grammar = Literal["json", "text"]

REQUIRED = "required"
UNKNOWN_FIELD = "unknown_field"
NOT_AN_OBJECT = "not_an_object"
NOT_A_NUMBER = numbers.NOT_A_NUMBER
OUT_OF_RANGE = numbers.OUT_OF_RANGE
FUTURE_MONTH = "future_month"
UNKNOWN_CUSTOMER = "unknown_customer"
DUPLICATE = "duplicate"

# (lowest, highest, what to enter): the range's sentence follows the refused value.
RANGES: dict[str, tuple[int, int, str]] = {
    # An id past 64 bits can never match, and SQLite cannot even bind it (OverflowError, a 500).
    "customer_id": (1, MAX_ID, f"enter a customer id from 1 to {MAX_ID}"),
    "year": (periods.MIN_YEAR, periods.MAX_YEAR, "enter a year between 2000 and 2999"),
    "month": (1, 12, "enter a month from 1 to 12"),
    "api_usage": (0, MAX_USAGE, f"usage must be between 0 and {MAX_USAGE}"),
}


class UsageRow(NamedTuple):
    """One customer-month's total as recorded: ids, calendar year and month (1-12), and the
    month's API calls. A tuple (customer_id, year, month, api_usage), the shape
    bills.selectors.bill_list_stale takes."""

    customer_id: int
    year: int
    month: int
    api_usage: int


@dataclass(frozen=True)
class UsageRowError:
    """Why the row numbered `row` was refused.

    `row` is the number the caller gave the row (the index in a batch, a file's line). `field`
    is one of FIELDS, an unknown field's name, or "" for the row as a whole. `code` is one of
    REQUIRED, UNKNOWN_FIELD, NOT_AN_OBJECT, NOT_A_NUMBER, OUT_OF_RANGE, FUTURE_MONTH,
    UNKNOWN_CUSTOMER, DUPLICATE; `message` is the sentence, naming the refused value. A
    DUPLICATE names the row that first set the customer-month in `first_row`.
    """

    row: int
    field: str
    code: str
    message: str
    first_row: int | None = None


class UsageRowsError(DomainError):
    """A batch refused for its rows; nothing was written.

    `row_errors` is the structured list, by row; `errors` is what the API answers under
    "items": {"3": {"api_usage": ["..."]}} (the row as a whole under "non_field_errors").
    `bad_rows` counts every refused row, also those past a capped list.
    """

    def __init__(self, row_errors: list[UsageRowError], *, total: int, bad_rows: int = 0):
        by_row: dict[str, dict[str, list[str]]] = {}
        for error in row_errors:
            fields = by_row.setdefault(str(error.row), {})
            fields.setdefault(error.field or "non_field_errors", []).append(error.message)
        self.bad_rows = max(bad_rows, len(by_row))
        super().__init__(
            f"{self.bad_rows:,} of {total:,} usage items are invalid; nothing was recorded.",
            kind="invalid",
            errors=by_row,  # type: ignore[arg-type]
        )
        self.row_errors = row_errors


def usage_row_parse(
    *, raw: object, row: int = 0, source: Grammar
) -> tuple[UsageRow | None, list[UsageRowError]]:
    """Read one raw row into a UsageRow (SPEC "Data": Usage).

    `raw` maps the FIELDS to values. `source` says how a value is read (core.numbers):
    - JSON (an API item): a JSON integer only. The string "7", the float 7.0 (or 1e3) and true
      are refused, never read or rounded (SPEC: counts are integers).
    - TEXT (a CSV line's cells, the record page's fields; a blank is None): ASCII digits,
      surrounding spaces ignored, so "250.000", "1,000", "1_000", "+5" and "１２" are refused
      where int() or Django's IntegerField would read a number. An int code already holds (a
      customer's pk) is taken as it is.
    Ranges: customer_id 1 to 2^63-1, year 2000-2999, month 1-12, api_usage 0 to 2^63-1 API
    calls ("-5" is refused by its range). Fields other than FIELDS are refused, so a typo never
    passes silently. Each refusal names what was sent.

    Returns (the row, []) or (None, its errors), each UsageRowError numbered `row`. Raises
    nothing; what needs the database or today's date is usage.services.batch's.
    """
    if not isinstance(raw, Mapping):
        message = f"Each item must be an object, not {_kind(raw)}."
        return None, [UsageRowError(row, "", NOT_AN_OBJECT, message)]
    errors = [
        UsageRowError(row, str(name), UNKNOWN_FIELD, "Unknown field.")
        for name in sorted(str(name) for name in raw if name not in FIELDS)
    ]
    parse = numbers.parse_text if source == TEXT else numbers.parse_json
    values: dict[str, int] = {}
    for name in FIELDS:
        value = raw.get(name)
        if source == TEXT and isinstance(value, str):
            value = value.strip() or None
        if value is None:
            errors.append(UsageRowError(row, name, REQUIRED, "This field is required."))
            continue
        low, high, _ = RANGES[name]
        try:
            values[name] = parse(value, min_value=low, max_value=high, range_message="-")
        except numbers.WholeNumberError as error:
            message = error.message
            if error.code == OUT_OF_RANGE:
                message = out_of_range_message(name, value, quoted=source == TEXT)
            errors.append(UsageRowError(row, name, error.code, message))
    if errors:
        return None, errors
    return UsageRow(**values), []


# --- the sentences ---------------------------------------------------------------------------


def out_of_range_message(field: str, value: object, *, quoted: bool) -> str:
    """“13” is out of range: enter a month from 1 to 12. (A JSON number unquoted: 13 is ...)"""
    text = str(value)
    shown = numbers.quote_typed(text) if quoted else _shortened(text)
    return f"{shown} is out of range: {RANGES[field][2]}."


def future_month_message(year: int, month: int) -> str:
    """2027-05 is in the future; ... (a month is recorded once it starts)."""
    return f"{year}-{month:02d} is in the future; usage can be recorded once the month starts."


def unknown_customer_message(customer_id: int) -> str:
    """No customer has id 12."""
    return f"No customer has id {customer_id}."


def duplicate_message(*, first: int, customer_id: int, year: int, month: int, numbered: str) -> str:
    """A customer-month set twice: by item in a batch, by line in a file."""
    what = f"customer {customer_id}, {year}-{month:02d}"
    if numbered == "line":
        return f"Line {first} already sets {what}; keep one."
    return f"Item {first} already sets {what}; send it once."


def _shortened(text: str) -> str:
    return text if len(text) <= 30 else text[:29] + "…"


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return f"the string {json.dumps(_shortened(value), ensure_ascii=False)}"
    return f"the number {_shortened(str(value))}"
