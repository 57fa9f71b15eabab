"""Reads of usage: lists, one customer-month, a customer's recent months, and the current
month's usage beside a list of customers."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, Q, QuerySet, Subquery

from billing_site.core import periods
from customers.models import Customer
from usage.models import Usage


@dataclass(frozen=True)
class MonthUsage:
    """One month of a customer's window: recorded usage (None: nothing recorded) and limit."""

    year: int
    month: int
    api_usage: int | None
    limit: int
    in_progress: bool = False  # the current month: its usage is a total so far

    @property
    def period(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def label(self) -> str:
        return periods.label(self.year, self.month)

    @property
    def overage(self) -> int:
        return max(0, (self.api_usage or 0) - self.limit)


def _between(qs: QuerySet[Usage], first: tuple[int, int], last: tuple[int, int]) -> QuerySet:
    (fy, fm), (ty, tm) = first, last
    return qs.filter(Q(year__gt=fy) | Q(year=fy, month__gte=fm)).filter(
        Q(year__lt=ty) | Q(year=ty, month__lte=tm)
    )


def usage_list() -> QuerySet[Usage]:
    """Usage rows with their customer, newest month first, then by customer name. Filtering is
    usage.filters.UsageFilterSet's."""
    return Usage.objects.select_related("customer").order_by(
        "-year", "-month", "customer__name", "id"
    )


def usage_of_month(*, customer_id: int, year: int, month: int) -> int:
    """The customer-month's recorded API calls; 0 when none are recorded (SPEC "Computing a
    bill": no usage row counts as 0)."""
    recorded = (
        Usage.objects.filter(customer_id=customer_id, year=year, month=month)
        .values_list("api_usage", flat=True)
        .first()
    )
    return int(recorded or 0)


def usage_recent(*, customer_id: int, months: int = 12) -> list[Usage]:
    """The recorded usage rows of the last `months` months up to this one, oldest first."""
    today = periods.today()
    first = (today.year, today.month)
    for _ in range(months - 1):
        first = periods.previous_month(*first)
    rows = _between(Usage.objects.filter(customer_id=customer_id), first, (today.year, today.month))
    return list(rows.order_by("year", "month"))


def usage_months(*, customer: Customer, months: int = 13) -> list[MonthUsage]:
    """Every month of the window (oldest first, ending this month), recorded or not, with the
    customer's limit: what the customer page's chart and table show. One query."""
    today = periods.today()
    window = [(today.year, today.month)]
    for _ in range(months - 1):
        window.append(periods.previous_month(*window[-1]))
    window.reverse()
    recorded = dict(
        ((u["year"], u["month"]), u["api_usage"])
        for u in _between(Usage.objects.filter(customer=customer), window[0], window[-1]).values(
            "year", "month", "api_usage"
        )
    )
    limit = customer.monthly_api_limit
    return [
        MonthUsage(y, m, recorded.get((y, m)), limit, in_progress=(y, m) == window[-1])
        for y, m in window
    ]


def with_current_usage(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """The customers, each annotated with this month's recorded usage as `current_usage`
    (None: none recorded), in the same query."""
    today = periods.today()
    this_month = Usage.objects.filter(
        customer=OuterRef("pk"), year=today.year, month=today.month
    ).values("api_usage")[:1]
    return customers.annotate(current_usage=Subquery(this_month))
