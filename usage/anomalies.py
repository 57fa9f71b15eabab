"""Suspicious usage: a month far from the customer's own history, to look at before it is billed.

The rule (README "Configuration" holds the settings):
- history: the customer's recorded months among the USAGE_ANOMALY_WINDOW (6) months before;
  fewer than USAGE_ANOMALY_MIN_HISTORY (3) of them and the month is not judged ("not enough
  history"). Months with nothing recorded are left out of the history, not counted as 0.
- flagged when usage > USAGE_ANOMALY_HIGH (3) x the history's median, or usage <
  USAGE_ANOMALY_LOW (1/3) x that median, or usage is 0 after a median above 0 (a sudden zero).
  Exactly at a threshold is not flagged. Comparisons are exact (Fractions; even counts take the
  mean of the two middle months).
- judged: months that have ended and have usage recorded (a month in progress is a total so
  far, and nothing recorded is the "no usage" list's business).

usage.analysis holds the selectors (usage_anomalies for any keys, usage_anomalies_of_month for
the overview); this module holds the rule, the thresholds and the medians of a whole month.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from django.conf import settings
from django.db import connections
from django.db.models import Aggregate, BigIntegerField, Count, Max, OuterRef, Q, Subquery
from django.db.models.lookups import GreaterThan, LessThan

from billing_site.core import periods
from customers.models import Customer
from usage.levels import wide
from usage.models import Usage

NOT_ENOUGH_HISTORY = "not enough history"
IN_PROGRESS = "month in progress: judged once it has ended"
NOT_RECORDED = "no usage recorded"


@dataclass(frozen=True)
class Thresholds:
    high: Fraction
    low: Fraction
    window: int
    min_history: int


def thresholds() -> Thresholds:
    """The rule's settings, read when asked (tests and deployments may change them)."""
    return Thresholds(
        high=Fraction(settings.USAGE_ANOMALY_HIGH),
        low=Fraction(settings.USAGE_ANOMALY_LOW),
        window=int(settings.USAGE_ANOMALY_WINDOW),
        min_history=int(settings.USAGE_ANOMALY_MIN_HISTORY),
    )


@dataclass(frozen=True)
class Judgement:
    flagged: bool
    reason: str  # why it is suspicious, or why it was not judged; "" when judged and normal
    judged: bool = True
    median: Fraction | None = None
    recorded: int = 0  # recorded months in the window before

    @property
    def lacks_history(self) -> bool:
        return not self.judged and self.reason.startswith(NOT_ENOUGH_HISTORY)


def months_before(year: int, month: int, n: int) -> tuple[int, int]:
    """The month `n` months before (year, month)."""
    index = year * 12 + month - 1 - n
    return index // 12, index % 12 + 1


def months_between(first: tuple[int, int], last: tuple[int, int]) -> Q:
    """Rows from `first` to `last`, inclusive."""
    (fy, fm), (ly, lm) = first, last
    return (Q(year__gt=fy) | Q(year=fy, month__gte=fm)) & (
        Q(year__lt=ly) | Q(year=ly, month__lte=lm)
    )


def median(values: list[int]) -> Fraction:
    """The middle value, or the mean of the two middle ones, exactly (at least one value)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return Fraction(ordered[middle])
    return Fraction(ordered[middle - 1] + ordered[middle], 2)


def _calls(value: Fraction) -> str:
    return f"{math.floor(value + Fraction(1, 2)):,}"  # half-up to a whole call, 1,234,000


def _times(usage: int, of: Fraction, threshold: Fraction) -> str:
    """usage / of as "4.2x": two places, or more where two would read as the threshold
    itself (3.004 is "3.004x", not "3x", when more than 3x is flagged)."""
    ratio = Fraction(usage) / of
    if ratio < Fraction(1, 100):
        return "under 0.01x"
    with localcontext(prec=60):
        exact = Decimal(ratio.numerator) / Decimal(ratio.denominator)
        for places in range(2, 7):
            shown = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
            if Fraction(shown) != threshold:
                break
    text = f"{shown:,f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "x"


def _verdict(usage: int, median: Fraction | None, recorded: int, t: Thresholds) -> str:
    # Which of the rule's cases the month is: "unjudged", "zero" (a sudden zero), "after zero"
    # (calls against a median of 0), "high", "low", or "" (judged and normal).
    if median is None or recorded < t.min_history:
        return "unjudged"
    if usage == 0 and median > 0:
        return "zero"
    if usage > t.high * median:
        return "after zero" if median == 0 else "high"
    if usage < t.low * median:
        return "low"
    return ""


def is_flagged(
    *, usage: int, median: Fraction | None, recorded: int, limits: Thresholds | None = None
) -> bool:
    """Whether judge() flags the month (the same cases, without wording a reason: the month
    overview words only the rows it shows). `limits` defaults to thresholds()."""
    return _verdict(usage, median, recorded, limits or thresholds()) not in ("unjudged", "")


def judge(*, usage: int, median: Fraction | None, recorded: int) -> Judgement:
    """The rule for one month: `usage` against the `median` of its `recorded` prior months."""
    t = thresholds()
    verdict = _verdict(usage, median, recorded, t)
    if verdict == "unjudged":
        reason = (
            f"{NOT_ENOUGH_HISTORY}: {recorded} of the {t.window} months before recorded, "
            f"{t.min_history} needed"
        )
        return Judgement(False, reason, judged=False, median=median, recorded=recorded)
    if not verdict:
        return Judgement(False, "", median=median, recorded=recorded)
    of = f"the {t.window}-month median of {_calls(median)}"
    if verdict == "zero":
        reason = f"sudden zero: 0 calls against {of}"
    elif verdict == "after zero":
        reason = f"{usage:,} call{'' if usage == 1 else 's'} against {of}"
    else:
        reason = f"{_times(usage, median, t.high if verdict == 'high' else t.low)} {of}"
    return Judgement(True, reason, median=median, recorded=recorded)


def judge_key(
    key: tuple[int, int, int], recorded: dict[tuple[int, int, int], int], *, today: date | None
) -> Judgement:
    """judge() for (customer_id, year, month), given the recorded months of its window."""
    customer_id, year, month = key
    if not periods.has_ended(year, month, on=today):
        return Judgement(False, IN_PROGRESS, judged=False)
    usage = recorded.get(key)
    if usage is None:
        return Judgement(False, NOT_RECORDED, judged=False)
    window = thresholds().window
    before = [months_before(year, month, n) for n in range(1, window + 1)]
    history = [recorded[(customer_id, *m)] for m in before if (customer_id, *m) in recorded]
    return judge(usage=usage, median=median(history) if history else None, recorded=len(history))


def distance(usage: int, of: Fraction) -> Fraction | float:
    """How far from the median, either way (a zero on either side is furthest)."""
    if usage == 0 or of == 0:
        return math.inf
    # max(usage / of, of / usage) with one Fraction made (the overview orders ~3,000 by it).
    above, below = usage * of.denominator, of.numerator
    return Fraction(above, below) if above >= below else Fraction(below, above)


@dataclass(frozen=True)
class MedianRow:
    customer_id: int
    name: str
    limit: int
    usage: int
    median: Fraction | None
    recorded: int


class _MiddleValue(Aggregate):
    """PERCENTILE_DISC(fraction): the first value, ascending, at or past `fraction` of the
    rows: the value at position ceil(fraction x n) of n. The lower middle value is fraction 0.5
    (position ceil(n/2)); the upper one takes upper_middle_fraction (position n/2 + 1 for an even
    n, the middle one for an odd n). Their mean is the exact median, where PERCENTILE_CONT would
    answer a float. Both sort the same rows the same way, so PostgreSQL sorts each group once
    for the two (a descending sort for the upper one was a second sort: issue 14)."""

    function = "PERCENTILE_DISC"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"
    output_field = BigIntegerField()

    def __init__(self, expression, *, fraction: float = 0.5, **extra):
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def upper_middle_fraction(window: int) -> float:
    """A fraction p whose PERCENTILE_DISC is the upper middle of any n <= `window` values (n >=
    1): ceil(p x n) must be n/2 + 1 for an even n and (n + 1)/2 for an odd n, which holds for
    0.5 < p <= 0.5 + 1/(2 x window). Takes the middle of that range, 0.5 + 1/(4 x window), far
    from either end for a float's rounding."""
    return 0.5 + 1 / (4 * max(window, 1))


def month_medians(*, year: int, month: int) -> tuple[list[MedianRow], int]:
    """(rows, not judged) for the customers with usage in the month: on PostgreSQL only the
    rows the rule flags (the database compares, exactly, in NUMERIC), on SQLite every row (its
    medians are taken in Python); and how many customers have too little history to judge.
    One query on either."""
    t = thresholds()
    this = Q(year=year, month=month)
    history = months_between(
        months_before(year, month, t.window), periods.previous_month(year, month)
    )
    rows = Usage.objects.filter(this | history).order_by()
    if connections[rows.db].vendor == "sqlite":
        return _medians_in_python(rows, year, month, t)
    # Grouped by the customer's id alone (the usage rows only: a join to the customer made
    # every row wider to sort); the name and limit are read for the rows that come back.
    customer = Customer.objects.filter(pk=OuterRef("customer_id")).order_by()
    # Among these rows the history is every row not of the month: a cheaper test per row and
    # aggregate than the window's bounds again.
    before = ~this
    grouped = (
        rows.values("customer_id")
        .annotate(
            usage=Max("api_usage", filter=this),
            recorded=Count("id", filter=before),
            lower=_MiddleValue("api_usage", filter=before),
            upper=_MiddleValue(
                "api_usage", fraction=upper_middle_fraction(t.window), filter=before
            ),
        )
        .filter(usage__isnull=False)
    )
    # usage vs ratio x median, with median = (lower + upper) / 2 and ratio = p/q: 2qu vs p(l+u)
    twice = wide("lower") + wide("upper")
    suspicious = (
        GreaterThan(wide("usage") * (2 * t.high.denominator), twice * t.high.numerator)
        | LessThan(wide("usage") * (2 * t.low.denominator), twice * t.low.numerator)
        | (Q(usage=0) & GreaterThan(twice, 0))
    )
    # One pass over the months (issue 14: two took 2.8 s at 100,000 customers x 24 months):
    # the rows the rule flags and those it cannot judge come back together; Python counts the
    # latter. A customer with too little history is new: few rows, whatever the month's size.
    found = grouped.filter(
        Q(suspicious, recorded__gte=t.min_history) | Q(recorded__lt=t.min_history)
    )
    found = found.annotate(
        name=Subquery(customer.values("name")),
        limit=Subquery(customer.values("monthly_api_limit")),
    )
    rows, not_judged = [], 0
    for r in found:
        if r["recorded"] < t.min_history:
            not_judged += 1
            continue
        rows.append(
            MedianRow(
                customer_id=r["customer_id"],
                name=r["name"],
                limit=r["limit"],
                usage=r["usage"],
                median=Fraction(r["lower"] + r["upper"], 2),
                recorded=r["recorded"],
            )
        )
    return rows, not_judged


def _medians_in_python(rows, year: int, month: int, t: Thresholds) -> tuple[list[MedianRow], int]:
    found: dict[int, dict] = {}
    fields = ("customer_id", "customer__name", "customer__monthly_api_limit", "year", "month")
    for c, name, limit, y, m, usage in rows.values_list(*fields, "api_usage").iterator(2000):
        entry = found.setdefault(c, {"name": name, "limit": limit, "usage": None, "history": []})
        if (y, m) == (year, month):
            entry["usage"] = usage
        else:
            entry["history"].append(usage)
    result = [
        MedianRow(c, e["name"], e["limit"], e["usage"], median(e["history"]), len(e["history"]))
        for c, e in found.items()
        if e["usage"] is not None and len(e["history"]) >= t.min_history
    ]
    not_judged = sum(
        1 for e in found.values() if e["usage"] is not None and len(e["history"]) < t.min_history
    )
    return result, not_judged
