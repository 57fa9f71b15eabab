"""Calendar months: parsing one, which have ended, and which a contract touches."""

from __future__ import annotations

import calendar
from datetime import date

from django.utils import timezone

from billing_site.core import numbers
from billing_site.core.errors import DomainError

MIN_YEAR = 2000
MAX_YEAR = 2999
YEAR_RANGE = f"Enter a year between {MIN_YEAR} and {MAX_YEAR}."
MONTH_RANGE = "Enter a month from 1 to 12."


def first_day(year: int, month: int) -> date:
    return date(year, month, 1)


def last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def today() -> date:
    return timezone.localdate()


def has_ended(year: int, month: int, *, on: date | None = None) -> bool:
    """A month has ended once its last day is behind us (in settings.TIME_ZONE)."""
    return last_day(year, month) < (on or today())


def last_ended_month(on: date | None = None) -> tuple[int, int]:
    d = on or today()
    return previous_month(d.year, d.month)


def contract_covers(start: date, end: date | None, year: int, month: int) -> bool:
    """The contract touches at least one day of the month."""
    return start <= last_day(year, month) and (end is None or end >= first_day(year, month))


def label(year: int, month: int) -> str:
    return f"{calendar.month_name[month]} {year}"


def parse(year: object, month: object) -> tuple[int, int]:
    """(year, month) as whole numbers: a year from MIN_YEAR to MAX_YEAR and a month 1-12.

    Takes ints or digit strings (core.numbers.parse_text); a bool, a float or any other text is
    refused, never rounded. Raises DomainError(kind="invalid") whose `errors` name "year"
    and/or "month", with the range or what was given.
    """
    errors: dict[str, list[str]] = {}
    parsed: dict[str, int] = {}
    for name, value, low, high, message in (
        ("year", year, MIN_YEAR, MAX_YEAR, YEAR_RANGE),
        ("month", month, 1, 12, MONTH_RANGE),
    ):
        try:
            parsed[name] = numbers.parse_text(
                value, min_value=low, max_value=high, range_message=message
            )
        except numbers.WholeNumberError as error:
            errors[name] = [error.message]
    if errors:
        raise DomainError("Check the period.", kind="invalid", errors=errors)
    return parsed["year"], parsed["month"]
