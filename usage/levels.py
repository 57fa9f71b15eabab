"""How full a customer's month is: against its limit now, and by month end at the run rate.

One definition for Python (a customer page, a list's rows) and for SQL (counts and lists in the
database), so the two cannot disagree. Exact integer comparisons, never a rounded percentage:
999,999 of 1,000,000 calls reads "100%" but is not at the limit.

- OVER: usage > limit (there is overage to bill).
- AT: usage == limit > 0 (no overage yet; the next call is billed).
- NEAR: 80% of the limit <= usage < limit ("within 20% of it").
The overview's "near the limit" is NEAR and AT: every customer within 20% who is not billed.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from django.db.models import Case, CharField, DecimalField, F, Q, Value, When
from django.db.models.functions import Cast
from django.db.models.lookups import GreaterThanOrEqual

from billing_site.core import periods

OVER, AT, NEAR = "over", "at", "near"
NEAR_PERCENT = 80
LABELS = {OVER: "over the limit", AT: "at the limit", NEAR: "near the limit"}


def usage_level(usage: int | None, limit: int) -> str:
    """OVER, AT, NEAR or "" for `usage` calls against `limit` (None: nothing recorded)."""
    usage = usage or 0
    if usage > limit:
        return OVER
    if usage <= 0:
        return ""
    if usage == limit:
        return AT
    return NEAR if usage * 100 >= limit * NEAR_PERCENT else ""


def wide(name: str):
    """A 64-bit column as NUMERIC, so multiplying it cannot overflow PostgreSQL's bigint."""
    return Cast(name, DecimalField(max_digits=40, decimal_places=0))


def level_expression(usage: str, limit: str) -> Case:
    """usage_level() as SQL over the columns `usage` and `limit` (NULL usage: nothing)."""
    return Case(
        When(Q(**{f"{usage}__gt": F(limit)}), then=Value(OVER)),
        When(Q(**{f"{usage}__isnull": True}) | Q(**{f"{usage}__lte": 0}), then=Value("")),
        When(Q(**{usage: F(limit)}), then=Value(AT)),
        When(GreaterThanOrEqual(wide(usage) * 100, wide(limit) * NEAR_PERCENT), then=Value(NEAR)),
        default=Value(""),
        output_field=CharField(),
    )


def percent_of_limit(usage: int | None, limit: int) -> int:
    """Whole percent, rounded half-up (display only: the level decides)."""
    usage = usage or 0
    if limit <= 0:
        return 100 if usage > 0 else 0
    return (200 * usage + limit) // (2 * limit)


@dataclass(frozen=True)
class RunRate:
    """The month in progress: usage so far / days elapsed x days in the month."""

    year: int
    month: int
    days_elapsed: int  # the current day counts as elapsed (in settings.TIME_ZONE)
    days_in_month: int

    def project(self, usage: int | None) -> int:
        """Calls by month end at the rate so far, rounded half-up to a whole call."""
        usage = usage or 0
        return (2 * usage * self.days_in_month + self.days_elapsed) // (2 * self.days_elapsed)

    def passes(self, usage: int | None, limit: int) -> bool:
        """The projection passes the limit (exactly: usage x days in month > limit x days)."""
        return (usage or 0) * self.days_in_month > limit * self.days_elapsed


def run_rate(*, year: int, month: int, today: date | None = None) -> RunRate | None:
    """The run rate of (year, month) if it is the month in progress, else None. `today` is
    core.periods.today() (in settings.TIME_ZONE) unless given."""
    today = today or periods.today()
    if (year, month) != (today.year, today.month):
        return None
    return RunRate(year, month, today.day, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class CustomerMonth:
    """One customer's usage of the month, as a list shows it: against its current limit."""

    customer_id: int
    customer_name: str
    api_usage: int
    limit: int
    previous_usage: int | None = None  # growth: the month before (None: none recorded)
    projected_usage: int | None = None  # the month in progress, at the run rate
    reason: str = ""  # suspicious: why

    @property
    def level(self) -> str:
        return usage_level(self.api_usage, self.limit)

    @property
    def percent(self) -> int:
        return percent_of_limit(self.api_usage, self.limit)

    @property
    def projected_percent(self) -> int:
        return percent_of_limit(self.projected_usage, self.limit)

    @property
    def increase(self) -> int:
        return self.api_usage - (self.previous_usage or 0)
