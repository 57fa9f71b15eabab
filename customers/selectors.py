"""Reads of customers, with their CSM and usage joined so lists run a fixed number of queries."""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from bills import periods
from bills.models import Bill
from customers.models import Customer
from usage.models import Usage


def customer_list(
    *,
    search: str | None = None,
    csm_id: int | None = None,
    require_csm_approval: bool | None = None,
) -> QuerySet[Customer]:
    """Customers by name, each annotated with this month's usage (`current_usage`)."""
    today = periods.today()
    this_month = Usage.objects.filter(
        customer=OuterRef("pk"), year=today.year, month=today.month
    ).values("api_usage")[:1]
    qs = Customer.objects.select_related("csm").annotate(current_usage=Subquery(this_month))
    if search:
        qs = qs.filter(Q(name__icontains=search.strip()))
    if csm_id:
        qs = qs.filter(csm_id=csm_id)
    if require_csm_approval is not None:
        qs = qs.filter(require_csm_approval=require_csm_approval)
    return qs.order_by("name", "id")


def customer_recent_usage(customer: Customer, months: int = 12) -> list[Usage]:
    """The last `months` usage rows up to this month, oldest first."""
    today = periods.today()
    y, m = today.year, today.month
    for _ in range(months - 1):
        y, m = periods.previous_month(y, m)
    rows = (
        Usage.objects.filter(customer=customer)
        .filter(Q(year__gt=y) | Q(year=y, month__gte=m))
        .filter(Q(year__lt=today.year) | Q(year=today.year, month__lte=today.month))
    )
    return list(rows.order_by("year", "month"))


def customer_detail_queryset() -> QuerySet[Customer]:
    bills = Bill.objects.order_by("-year", "-month", "-id")
    return Customer.objects.select_related("csm").prefetch_related(
        Prefetch("bills", queryset=bills)
    )
