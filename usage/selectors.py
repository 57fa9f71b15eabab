"""Reads of usage: lists, one customer-month, a customer's recent months (with their
revisions), the current month's usage beside a list of customers, and revisions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery

from accounts.models import User
from billing_site.core import periods
from billing_site.core.paging import PeriodPages
from customers.models import Customer
from usage.models import Usage, UsageRevision, UsageSource


@dataclass(frozen=True)
class RevisionLine:
    """One revision as a page shows it: who, when, from where, old -> new (old None: new)."""

    user_name: str
    created_at: datetime
    source: str
    file_name: str
    old_value: int | None
    new_value: int

    @property
    def source_label(self) -> str:
        label = UsageSource(self.source).label
        return f"{label} ({self.file_name})" if self.file_name else label


@dataclass(frozen=True)
class MonthUsage:
    """One month of a customer's window: recorded usage (None: nothing recorded) and limit."""

    year: int
    month: int
    api_usage: int | None
    limit: int
    in_progress: bool = False  # the current month: its usage is a total so far
    usage_id: int | None = None
    # Newest first; empty for a month never recorded, or recorded before revisions were kept.
    revisions: tuple[RevisionLine, ...] = field(default=(), compare=False)

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


# usage_list's order (a customer has one row a month: the id only orders equal names).
USAGE_ORDER = ("-year", "-month", "customer__name", "id")


def usage_list() -> QuerySet[Usage]:
    """Usage rows with their customer, newest month first, then by customer name. Filtering is
    usage.filters.UsageFilterSet's; usage_pages pages it."""
    return Usage.objects.select_related("customer").order_by(*USAGE_ORDER)


def usage_pages(rows: QuerySet[Usage]) -> PeriodPages | QuerySet[Usage]:
    """What to paginate for `rows` (a filtered usage_list queryset): a PeriodPages
    (billing_site.core.paging: counted per month, a page read month by month through the
    customers' name index instead of sorting every row; issue 14) when it is in usage_list's
    order and not DISTINCT, else `rows` itself."""
    if rows.query.distinct or tuple(rows.query.order_by) != USAGE_ORDER:
        return rows
    return PeriodPages(rows, order=USAGE_ORDER, backwards=("-customer__name", "-id"))


def usage_recorded(*, customer_id: int, year: int, month: int) -> int | None:
    """The customer-month's recorded API calls, or None when nothing is recorded for it (the
    record page asks before it replaces a total). One query."""
    return (
        Usage.objects.filter(customer_id=customer_id, year=year, month=month)
        .values_list("api_usage", flat=True)
        .first()
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
    customer's limit and each recorded month's revisions (newest first): what the customer
    page's chart and table show. One query: the months joined to their revisions and authors."""
    today = periods.today()
    window = [(today.year, today.month)]
    for _ in range(months - 1):
        window.append(periods.previous_month(*window[-1]))
    window.reverse()
    recorded: dict[tuple[int, int], tuple[int, int]] = {}
    revisions: dict[tuple[int, int], list[RevisionLine]] = {}
    rows = (
        _between(Usage.objects.filter(customer=customer), window[0], window[-1])
        .values_list(
            "id",
            "year",
            "month",
            "api_usage",
            "revisions__user__name",
            "revisions__created_at",
            "revisions__source",
            "revisions__file_name",
            "revisions__old_value",
            "revisions__new_value",
        )
        .order_by("year", "month", "-revisions__created_at", "-revisions__id")
    )
    for usage_id, year, month, api_usage, who, when, source, file_name, old, new in rows:
        recorded[(year, month)] = (usage_id, api_usage)
        if when is not None:
            line = RevisionLine(who, when, source, file_name, old, new)
            revisions.setdefault((year, month), []).append(line)
    limit = customer.monthly_api_limit
    return [
        MonthUsage(
            y,
            m,
            recorded[(y, m)][1] if (y, m) in recorded else None,
            limit,
            in_progress=(y, m) == window[-1],
            usage_id=recorded[(y, m)][0] if (y, m) in recorded else None,
            revisions=tuple(revisions.get((y, m), ())),
        )
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


def usage_revision_list(*, usage_id: int) -> QuerySet[UsageRevision]:
    """The revisions of one customer-month, newest first, each with its author joined."""
    return (
        UsageRevision.objects.filter(usage_id=usage_id)
        .select_related("user")
        .order_by("-created_at", "-id")
    )


def usage_revised_rows(*, user: User, source: str, at: datetime) -> Iterator[tuple]:
    """(customer_id, year, month, new value) of each customer-month that one recording by
    `user` from `source` changed at `at` (its revisions' shared time) from an earlier value,
    streamed in chunks: what bills.selectors.bill_list_stale takes, for an import of any size.
    Months it created are left out: no bill was computed from a month that had no usage."""
    return (
        UsageRevision.objects.filter(
            user=user, source=source, created_at=at, old_value__isnull=False
        )
        .order_by("id")
        .values_list("usage__customer_id", "usage__year", "usage__month", "new_value")
        .iterator(chunk_size=5_000)
    )
