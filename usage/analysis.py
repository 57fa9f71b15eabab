"""Reads that analyse usage across customers (SPEC "Pages": /usage): a month's figures (totals,
customers over and near their limit, the overage at current terms, top consumers, growth,
customers without usage), the run-rate projection of the month in progress, and suspicious
months (usage far from the customer's own history).

Every figure is aggregated by the database; Python shapes only the few rows a list shows. SQLite
is the exception, as in core.money.money_totals: its SUM goes through floats and it has no
percentile aggregate, so there the overage and the medians are computed from the month's rows.
What is already billed is bills.selectors', composed by the page and the API: this module does
not read bills.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.db import connections
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    FloatField,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.functions import Cast, Coalesce, NullIf, Round
from django.db.models.lookups import GreaterThan

from billing_site.core import periods
from billing_site.core.money import PRECISION, round_to_cents
from customers.models import Customer
from usage import anomalies
from usage.levels import (
    AT,
    NEAR,
    OVER,
    CustomerMonth,
    RunRate,
    level_expression,
    percent_of_limit,
    run_rate,
    usage_level,
    wide,
)
from usage.models import Usage
from usage.selectors import MonthUsage

TOP = 10  # top consumers
SHOWN = 25  # rows of a list (over, near, on track, no usage); a count says how many in all
INCREASES = 5

Key = tuple[int, int, int]  # (customer_id, year, month)


@dataclass(frozen=True)
class MonthTotals:
    total: int  # API calls recorded for the month
    customers: int  # customers with usage recorded
    over: int  # above their current limit (usage.levels.OVER)
    near: int  # from 80% of it up to it (NEAR and AT)
    previous_total: int  # the month before
    previous_customers: int

    @property
    def change(self) -> int:
        return self.total - self.previous_total

    @property
    def change_percent(self) -> Decimal | None:
        return percent_change(self.total, self.previous_total)


def percent_change(total: int, previous: int) -> Decimal | None:
    """`total` against `previous` in percent, to one place (half-up, away from 0); None when
    there was nothing before."""
    if not previous:
        return None
    with localcontext(prec=PRECISION):
        ratio = Decimal((total - previous) * 100) / Decimal(previous)
        return ratio.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _of_month(year: int, month: int) -> Q:
    return Q(year=year, month=month)


def _under_contract(year: int, month: int, prefix: str = "") -> Q:
    """The contract touches at least one day of the month (core.periods.contract_covers)."""
    return Q(**{f"{prefix}start_date__lte": periods.last_day(year, month)}) & (
        Q(**{f"{prefix}end_date__isnull": True})
        | Q(**{f"{prefix}end_date__gte": periods.first_day(year, month)})
    )


def usage_month_totals(*, year: int, month: int) -> MonthTotals:
    """The month's API calls and customers with usage, how many are over and near their
    current limit (usage.levels), and the same totals for the month before. One query."""
    py, pm = periods.previous_month(year, month)
    this, before = _of_month(year, month), _of_month(py, pm)
    found = (
        Usage.objects.filter(this | before)
        .alias(level=level_expression("api_usage", "customer__monthly_api_limit"))
        .aggregate(
            total=Sum("api_usage", filter=this),
            customers=Count("id", filter=this),
            over=Count("id", filter=this & Q(level=OVER)),
            near=Count("id", filter=this & Q(level__in=(NEAR, AT))),
            previous_total=Sum("api_usage", filter=before),
            previous_customers=Count("id", filter=before),
        )
    )
    # PostgreSQL's SUM of a bigint is NUMERIC (a Decimal); no rows, NULL.
    return MonthTotals(**{key: int(value or 0) for key, value in found.items()})


def usage_month_overage(*, year: int, month: int) -> tuple[int, Decimal]:
    """(customers, amount): what the month would bill at each customer's current terms, over
    the customers above their limit whose contract covers the month (SPEC "Computing a bill"):
    overage units x unit cost, rounded half-up to cents per customer, then added exactly.

    One query. PostgreSQL computes in NUMERIC (ROUND rounds half away from zero: half-up for
    amounts >= 0); SQLite would go through floats, so there the rows are added in Python.
    """
    over = Usage.objects.filter(
        _of_month(year, month),
        _under_contract(year, month, "customer__"),
        api_usage__gt=F("customer__monthly_api_limit"),
    ).order_by()
    if connections[over.db].vendor != "sqlite":
        units = F("api_usage") - F("customer__monthly_api_limit")
        amount = ExpressionWrapper(
            units * F("customer__overage_unit_cost"),
            output_field=DecimalField(max_digits=40, decimal_places=6),
        )
        found = over.aggregate(n=Count("id"), amount=Sum(Round(amount, 2)))
        return found["n"], round_to_cents(found["amount"] or Decimal("0"))
    n, total = 0, Decimal("0.00")
    rows = over.values_list(
        "api_usage", "customer__monthly_api_limit", "customer__overage_unit_cost"
    )
    with localcontext(prec=PRECISION):
        for usage, limit, cost in rows.iterator(chunk_size=5000):
            n, total = n + 1, total + round_to_cents((usage - limit) * cost)
    return n, round_to_cents(total)


def _fullest_first() -> list:
    # usage / limit, largest first; a limit of 0 (NULL ratio) first: any usage is over it.
    ratio = ExpressionWrapper(
        Cast("api_usage", FloatField())
        / NullIf(Cast("customer__monthly_api_limit", FloatField()), 0),
        output_field=FloatField(),
    )
    return [ratio.desc(nulls_first=True), "customer__name", "customer_id"]


_FIELDS = ("customer_id", "customer__name", "api_usage", "customer__monthly_api_limit")


def _customer_month(row: dict, **more) -> CustomerMonth:
    return CustomerMonth(
        customer_id=row["customer_id"],
        customer_name=row["customer__name"],
        api_usage=row["api_usage"],
        limit=row["customer__monthly_api_limit"],
        **more,
    )


def _month_usage(year: int, month: int) -> QuerySet[Usage]:
    return Usage.objects.filter(_of_month(year, month))


def usage_limit_list(*, year: int, month: int, levels: Iterable[str]) -> list[CustomerMonth]:
    """The month's first SHOWN customers at one of `levels` (usage.levels: OVER, or NEAR and
    AT), fullest first, then by name. One query; usage_month_totals counts them all."""
    qs = (
        _month_usage(year, month)
        .alias(level=level_expression("api_usage", "customer__monthly_api_limit"))
        .filter(level__in=tuple(levels))
        .order_by(*_fullest_first())
    )
    return [_customer_month(row) for row in qs.values(*_FIELDS)[:SHOWN]]


def usage_top(*, year: int, month: int, n: int = TOP) -> list[CustomerMonth]:
    """The month's `n` largest consumers by API calls (then by name). One query."""
    qs = _month_usage(year, month).order_by("-api_usage", "customer__name", "customer_id")
    return [_customer_month(row) for row in qs.values(*_FIELDS)[:n]]


def usage_increases(*, year: int, month: int, n: int = INCREASES) -> list[CustomerMonth]:
    """The `n` customers whose calls grew most over the month before, largest increase first
    (one with nothing recorded then grows from 0); increases only. One query."""
    py, pm = periods.previous_month(year, month)
    # A join to the month before, not a subquery per row: one hash join over the two months
    # (a correlated subquery probed the index twice a row, 0.9 s at 100,000 customers).
    before = FilteredRelation(
        "customer__usage_records",
        condition=Q(customer__usage_records__year=py, customer__usage_records__month=pm),
    )
    qs = (
        _month_usage(year, month)
        .annotate(before=before, previous=F("before__api_usage"))
        .alias(increase=F("api_usage") - Coalesce(F("previous"), 0))
        .filter(increase__gt=0)
        .order_by("-increase", "customer__name", "customer_id")
    )
    rows = qs.values(*_FIELDS, "previous")[:n]
    return [_customer_month(row, previous_usage=row["previous"]) for row in rows]


def customers_without_usage(*, year: int, month: int) -> tuple[int, list[Customer]]:
    """(how many, the first SHOWN by name): customers whose contract covers the month and who
    have no usage recorded for it. One query (the count is a window over the same rows)."""
    # NOT IN (the month's customer ids), not NOT EXISTS: PostgreSQL hashes the ids once and
    # tests each customer against them, where for NOT EXISTS it walked the name index (the
    # LIMIT) probing the usage index per customer: 138 -> 46 ms for a month in progress at
    # 100,000 customers (docs/decisions.md). usage.customer_id is never NULL, so NOT IN is exact.
    recorded = Usage.objects.filter(year=year, month=month).values("customer_id")
    qs = (
        Customer.objects.filter(_under_contract(year, month))
        .exclude(pk__in=recorded)
        .annotate(found=Window(Count("id")))
        .order_by("name", "id")
        .only("id", "name")
    )
    shown = list(qs[:SHOWN])
    return (shown[0].found if shown else 0), shown


def usage_on_track_to_pass(*, rate: RunRate) -> tuple[int, list[CustomerMonth]]:
    """(how many, the first SHOWN, fullest first): customers of the month in progress not over
    their limit yet whose projection at the run rate passes it (RunRate.passes, exactly).
    One query."""
    passes = GreaterThan(
        wide("api_usage") * rate.days_in_month,
        wide("customer__monthly_api_limit") * rate.days_elapsed,
    )
    qs = (
        _month_usage(rate.year, rate.month)
        .filter(passes, api_usage__lte=F("customer__monthly_api_limit"))
        .annotate(found=Window(Count("id")))
        .order_by(*_fullest_first())
    )
    rows = list(qs.values(*_FIELDS, "found")[:SHOWN])
    count = rows[0]["found"] if rows else 0
    return count, [_customer_month(r, projected_usage=rate.project(r["api_usage"])) for r in rows]


# --- suspicious months (the rule: usage.anomalies) ------------------------------------------


def usage_judgements(
    *, keys: Iterable[Key], today: date | None = None
) -> dict[Key, anomalies.Judgement]:
    """Each (customer_id, year, month) judged against the customer's own history (usage.
    anomalies.judge): flagged with a reason, or why it was not judged (no usage recorded, the
    month in progress, not enough history). One query for any number of keys: the recorded
    months of the keys' customers from the earliest window to the latest month; the median per
    key is taken over those few rows (at most USAGE_ANOMALY_WINDOW per key)."""
    keys = set(keys)
    if not keys:
        return {}
    window = anomalies.thresholds().window
    by_period: dict[tuple[int, int], set[int]] = {}
    for customer_id, year, month in keys:
        by_period.setdefault((year, month), set()).add(customer_id)
    if len(by_period) <= 24:
        where = Q()
        for period, customers in by_period.items():
            where |= Q(customer_id__in=customers) & anomalies.months_between(
                anomalies.months_before(*period, window), period
            )
    else:  # many months (a long list of bills): one range, a superset the loop below sifts
        first = anomalies.months_before(*min(by_period), window)
        where = Q(customer_id__in={c for c, _, _ in keys}) & anomalies.months_between(
            first, max(by_period)
        )
    rows = Usage.objects.filter(where).values_list("customer_id", "year", "month", "api_usage")
    recorded = {(c, y, m): usage for c, y, m, usage in rows}
    return {key: anomalies.judge_key(key, recorded, today=today) for key in keys}


def usage_anomalies(*, keys: Iterable[Key], today: date | None = None) -> dict[Key, str]:
    """{(customer_id, year, month): reason} for the keys whose usage looks suspicious, e.g.
    "4.2x the 6-month median of 1,234,000"; the others are left out. One query (see
    usage_judgements, which also says why a key was not judged)."""
    judged = usage_judgements(keys=keys, today=today)
    return {key: j.reason for key, j in judged.items() if j.flagged}


@dataclass(frozen=True)
class MonthAnomalies:
    flagged: list[CustomerMonth]  # the first SHOWN, furthest from their median first
    count: int  # flagged in all
    not_judged: int  # customers with usage but not enough history
    in_progress: bool  # the month has not ended: judged once it has


def usage_anomalies_of_month(*, year: int, month: int, today: date | None = None) -> MonthAnomalies:
    """Every customer with usage recorded for the month judged as usage_judgements does: the
    suspicious ones with their reasons, and how many were not judged for lack of history. A
    month that has not ended is not judged. One query (on PostgreSQL the medians by
    PERCENTILE_DISC, and only the flagged rows and those not judged come back)."""
    if not periods.has_ended(year, month, on=today):
        return MonthAnomalies([], 0, 0, in_progress=True)
    found, not_judged = anomalies.month_medians(year=year, month=month)
    limits = anomalies.thresholds()
    flagged = [
        row
        for row in found
        if anomalies.is_flagged(
            usage=row.usage, median=row.median, recorded=row.recorded, limits=limits
        )
    ]
    # The first SHOWN of the sorted list (heapq documents nsmallest as sorted(...)[:n]), and
    # only their reasons worded: at 100,000 customers ~3,000 months are flagged (issue 14).
    shown = [
        CustomerMonth(
            r.customer_id,
            r.name,
            r.usage,
            r.limit,
            reason=anomalies.judge(usage=r.usage, median=r.median, recorded=r.recorded).reason,
        )
        for r in heapq.nsmallest(SHOWN, flagged, key=_furthest_first)
    ]
    return MonthAnomalies(shown, len(flagged), not_judged, in_progress=False)


def _furthest_first(row: anomalies.MedianRow) -> tuple:
    # Furthest from the median first (exactly: Fractions), then by name, then by id.
    return (-anomalies.distance(row.usage, row.median), row.name, row.customer_id)


@dataclass(frozen=True)
class CustomerMonths:
    """A customer page's months (usage.selectors.usage_months) analysed: the suspicious ones,
    those not judged for lack of history, and the month in progress at its run rate."""

    flags: dict[tuple[int, int], str]  # {(year, month): reason}
    suspicious: list[tuple[MonthUsage, str]]  # newest first
    lacking_history: list[MonthUsage]
    current: MonthUsage
    rate: RunRate | None
    projected: int | None  # the month in progress by month end; None without usage

    @property
    def level(self) -> str:
        return usage_level(self.current.api_usage, self.current.limit)

    @property
    def projected_level(self) -> str:
        return "" if self.projected is None else usage_level(self.projected, self.current.limit)

    @property
    def projected_percent(self) -> int:
        return percent_of_limit(self.projected, self.current.limit)

    @property
    def thresholds(self) -> anomalies.Thresholds:
        return anomalies.thresholds()


def usage_customer_months(
    *, customer_id: int, months: list[MonthUsage], today: date | None = None
) -> CustomerMonths:
    """`months` (oldest first, ending with the month in progress) of one customer, judged by
    usage_judgements (one query), with the run-rate projection of the last one."""
    judged = usage_judgements(keys=[(customer_id, m.year, m.month) for m in months], today=today)
    of = {(m.year, m.month): judged[(customer_id, m.year, m.month)] for m in months}
    current = months[-1]
    rate = run_rate(year=current.year, month=current.month, today=today)
    recorded = current.api_usage is not None
    return CustomerMonths(
        flags={period: j.reason for period, j in of.items() if j.flagged},
        suspicious=[
            (m, of[m.year, m.month].reason) for m in reversed(months) if of[m.year, m.month].flagged
        ],
        lacking_history=[m for m in months if of[m.year, m.month].lacks_history],
        current=current,
        rate=rate,
        projected=rate.project(current.api_usage) if rate and recorded else None,
    )
