"""Recording usage: one month's total per customer, all or nothing, in set-based SQL.

One row schema for every way usage comes in, the JSON API, a CSV file and the record page's form
(SPEC "Data": Usage; "JSON API": POST /api/usage): `usage_row_parse` reads one raw row into a
`UsageRow` or `UsageRowError`s, each number by its source's grammar (core.numbers: a JSON item
takes JSON integers only, a CSV cell or a form field digits); `usage_record_many` checks a batch
against the database and today's date and writes it all or not at all; `usage_check_many` runs
the same checks and writes nothing. Errors are data (row, field, code, message); callers word
them for their readers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, NamedTuple

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Perm, can
from billing_site.core import numbers, periods
from billing_site.core.errors import DomainError
from customers.models import Customer
from usage.models import Usage

MAX_ITEMS = 10_000
MAX_USAGE = numbers.MAX_INT64
MAX_ID = numbers.MAX_INT64
FIELDS = ("customer_id", "year", "month", "api_usage")

# Where a raw row comes from, which decides how its numbers are read (usage_row_parse).
JSON = "json"
TEXT = "text"
Source = Literal["json", "text"]

REQUIRED = "required"
UNKNOWN_FIELD = "unknown_field"
NOT_AN_OBJECT = "not_an_object"
NOT_A_NUMBER = numbers.NOT_A_NUMBER
OUT_OF_RANGE = numbers.OUT_OF_RANGE
FUTURE_MONTH = "future_month"
UNKNOWN_CUSTOMER = "unknown_customer"
DUPLICATE = "duplicate"

_RANGES: dict[str, tuple[int, int, str]] = {
    # An id past 64 bits can never match, and SQLite cannot even bind it (OverflowError, a 500).
    "customer_id": (1, MAX_ID, f"Enter a customer id from 1 to {MAX_ID}."),
    "year": (periods.MIN_YEAR, periods.MAX_YEAR, periods.YEAR_RANGE),
    "month": (1, 12, periods.MONTH_RANGE),
    "api_usage": (0, MAX_USAGE, f"Usage must be between 0 and {MAX_USAGE}."),
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

    `row` is the number the caller gave the parser (the index in a batch). `field` is one of
    FIELDS, an unknown field's name, or "" for the row as a whole. `code` is one of REQUIRED,
    UNKNOWN_FIELD, NOT_AN_OBJECT, NOT_A_NUMBER, OUT_OF_RANGE, FUTURE_MONTH, UNKNOWN_CUSTOMER,
    DUPLICATE; `message` is the API's sentence. A DUPLICATE names the row that first set the
    customer-month in `first_row`.
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
    """

    def __init__(self, row_errors: list[UsageRowError], *, total: int):
        by_row: dict[str, dict[str, list[str]]] = {}
        for error in row_errors:
            fields = by_row.setdefault(str(error.row), {})
            fields.setdefault(error.field or "non_field_errors", []).append(error.message)
        super().__init__(
            f"{len(by_row)} of {total} usage items are invalid; nothing was recorded.",
            kind="invalid",
            errors=by_row,  # type: ignore[arg-type]
        )
        self.row_errors = row_errors


@dataclass
class UsageResult:
    created: int
    updated: int


RawItem = Mapping[str, object] | UsageRow


def usage_row_parse(
    *, raw: object, row: int = 0, source: Source
) -> tuple[UsageRow | None, list[UsageRowError]]:
    """Read one raw row into a UsageRow (SPEC "Data": Usage).

    `raw` maps the FIELDS to values. `source` says how a value is read (core.numbers):
    - JSON (an API item, as usage_record_many reads its raw items): a JSON integer only. The
      string "7", the float 7.0 (or 1e3) and true are refused, never read or rounded (SPEC:
      counts are integers).
    - TEXT (the default, as usage.csv_import reads a line's cells; also the record page's
      fields; a blank is None): ASCII digits, surrounding spaces ignored, so "250.000",
      "1,000", "1_000", "+5" and "１２" are refused where int() or Django's IntegerField would
      read a number. An int code already holds (a customer's pk) is taken as it is.
    The refusal says what was sent. Ranges: customer_id 1 to 2^63-1, year 2000-2999, month 1-12,
    api_usage 0 to 2^63-1 API calls ("-5" is refused by its range). Fields other than FIELDS
    are refused, so a typo never passes silently.

    Returns (the row, []) or (None, its errors), each UsageRowError numbered `row`. Raises
    nothing; what needs the database or today's date is usage_check_many's.
    """
    if not isinstance(raw, Mapping):
        return None, [UsageRowError(row, "", NOT_AN_OBJECT, "Each item must be an object.")]
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
        low, high, range_message = _RANGES[name]
        try:
            values[name] = parse(value, min_value=low, max_value=high, range_message=range_message)
        except numbers.WholeNumberError as error:
            errors.append(UsageRowError(row, name, error.code, error.message))
    if errors:
        return None, errors
    return UsageRow(**values), []


def usage_check_many(*, items: Sequence[RawItem], user: User) -> list[UsageRowError]:
    """Every problem usage_record_many would refuse `items` for, row by row; writes nothing.

    For a caller that cannot record anyway (a CSV file with lines it could not read) and still
    wants to list every problem in one pass. Takes the same items (an empty list is fine: no
    problems). Raises DomainError(kind="forbidden") for a role that may not record usage and
    DomainError(kind="invalid", field "items") for a batch that is not a list or is too long.
    """
    _require_recorder(user)
    _require_batch(items, allow_empty=True)
    return _checked(items, periods.today())[1]


def usage_record_many(*, items: Sequence[RawItem], user: User) -> UsageResult:
    """Set each customer-month's total (API calls), creating or replacing it; all or nothing.

    `items`: 1 to MAX_ITEMS UsageRows, or raw rows as decoded from JSON (usage_row_parse with
    source JSON: numbers are JSON integers, a digit string is refused). On top of each row's
    schema: a month that has started (today, settings.TIME_ZONE), a customer that exists, and
    each customer-month once (SPEC "JSON API": POST /api/usage).

    Raises DomainError(kind="forbidden") for a role other than Finance; DomainError(kind=
    "invalid", field "items") for a batch that is not a non-empty list of at most MAX_ITEMS;
    UsageRowsError (kind "invalid") listing every bad row. Nothing is written then.
    """
    _require_recorder(user)
    _require_batch(items, allow_empty=False)
    rows, errors = _checked(items, periods.today())
    if errors:
        raise UsageRowsError(errors, total=len(items))
    return _upsert(rows)


def usage_record(
    *, customer: Customer, year: int, month: int, api_usage: int, user: User
) -> UsageResult:
    """One customer-month's total (API calls): usage_record_many of one row, same rules and
    errors (the row is "0")."""
    row = UsageRow(customer_id=customer.pk, year=year, month=month, api_usage=api_usage)
    return usage_record_many(items=[row], user=user)


# --- checking --------------------------------------------------------------------------------


def _require_recorder(user: User) -> None:
    if not can(user, Perm.RECORD_USAGE):
        raise DomainError.forbidden(f"Your role ({user.role}) may not record usage.")


def _require_batch(items: object, *, allow_empty: bool) -> None:
    if not isinstance(items, list | tuple) or not (items or allow_empty):
        raise DomainError.invalid("Send one usage item or a non-empty list of them.", "items")
    if len(items) > MAX_ITEMS:
        raise DomainError.invalid(f"Send at most {MAX_ITEMS:,} items at a time.", "items")


def _checked(items: Sequence[RawItem], today: date) -> tuple[list[UsageRow], list[UsageRowError]]:
    """(the rows, []) when every item is good, else ([], the errors by row)."""
    errors: list[UsageRowError] = []
    parsed: list[tuple[int, UsageRow]] = []
    for index, item in enumerate(items):
        raw = item._asdict() if isinstance(item, UsageRow) else item
        # Raw items are the API's JSON: their numbers must be JSON integers.
        row, row_errors = usage_row_parse(raw=raw, row=index, source=JSON)
        if row and (row.year, row.month) > (today.year, today.month):
            message = "This month is in the future; usage can be recorded once it starts."
            row_errors = [UsageRowError(index, "month", FUTURE_MONTH, message)]
        if row_errors:
            errors.extend(row_errors)
        elif row:
            parsed.append((index, row))
    # One query however many rows; only rows that parsed, so every id is in range.
    known = set(
        Customer.objects.filter(id__in={row.customer_id for _, row in parsed}).values_list(
            "id", flat=True
        )
    )
    first: dict[tuple[int, int, int], int] = {}
    for index, row in parsed:
        key = (row.customer_id, row.year, row.month)
        if row.customer_id not in known:
            message = f"No customer has id {row.customer_id}."
            errors.append(UsageRowError(index, "customer_id", UNKNOWN_CUSTOMER, message))
        elif key in first:
            message = f"Item {first[key]} already sets this customer-month; send it once."
            errors.append(UsageRowError(index, "month", DUPLICATE, message, first_row=first[key]))
        else:
            first[key] = index
    if errors:
        return [], sorted(errors, key=lambda error: error.row)
    return [row for _, row in parsed], []


# --- writing ---------------------------------------------------------------------------------


def _upsert(rows: list[UsageRow]) -> UsageResult:
    now = timezone.now()
    customer_ids = {r.customer_id for r in rows}
    periods_sent = {(r.year, r.month) for r in rows}
    with transaction.atomic():
        existing = {
            (c, y, m)
            for c, y, m in Usage.objects.filter(customer_id__in=customer_ids)
            .filter(year__in={y for y, _ in periods_sent}, month__in={m for _, m in periods_sent})
            .values_list("customer_id", "year", "month")
        }
        Usage.objects.bulk_create(
            [
                Usage(
                    customer_id=r.customer_id,
                    year=r.year,
                    month=r.month,
                    api_usage=r.api_usage,
                    created_at=now,
                    updated_at=now,
                )
                for r in rows
            ],
            update_conflicts=True,
            unique_fields=["customer", "year", "month"],
            update_fields=["api_usage", "updated_at"],
        )
    updated = sum((r.customer_id, r.year, r.month) in existing for r in rows)
    return UsageResult(created=len(rows) - updated, updated=updated)
