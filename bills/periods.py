"""Calendar months: which have ended, and which a contract touches."""

from __future__ import annotations

import calendar
from datetime import date

from django.utils import timezone

MIN_YEAR = 2000
MAX_YEAR = 2999


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
