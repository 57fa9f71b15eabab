"""Reads of bills, with everything a list or a page shows already joined or prefetched."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery, Sum

from bills.models import Bill, BillAction, Status
from usage.models import Usage


def _with_current_usage(qs: QuerySet[Bill]) -> QuerySet[Bill]:
    current = Usage.objects.filter(
        customer=OuterRef("customer_id"), year=OuterRef("year"), month=OuterRef("month")
    ).values("api_usage")[:1]
    return qs.annotate(current_usage=Subquery(current))


def bill_list(
    *,
    status: str | None = None,
    customer_id: int | None = None,
    year: int | None = None,
    month: int | None = None,
) -> QuerySet[Bill]:
    """Newest period first; each row carries its customer, CSM and current usage."""
    qs = Bill.objects.select_related("customer", "customer__csm")
    if status:
        qs = qs.filter(status=status)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if year:
        qs = qs.filter(year=year)
    if month:
        qs = qs.filter(month=month)
    return _with_current_usage(qs).order_by("-year", "-month", "customer__name", "-id")


def bill_detail_queryset() -> QuerySet[Bill]:
    """Bills with their history (oldest first) and the approvers, for the detail page and API."""
    actions = BillAction.objects.select_related("stakeholder").order_by("created_at", "id")
    return _with_current_usage(
        Bill.objects.select_related(
            "customer", "customer__csm", "csm_approved_by", "sales_approved_by"
        ).prefetch_related(Prefetch("actions", queryset=actions))
    )


def bill_get(pk: int) -> Bill | None:
    return bill_detail_queryset().filter(pk=pk).first()


def bill_status_totals(**filters) -> list[dict]:
    """Each status with its number of bills and their total amount: one grouped query.

    The database adds the amounts (a NUMERIC sum, exact on PostgreSQL); Python only adds the
    five per-status totals for "All", which is exact in Decimal.
    """
    rows = (
        Bill.objects.filter(**filters)
        .values("status")
        .annotate(count=Count("id"), amount=Sum("overage_amount"))
        .order_by()
    )
    found = {row["status"]: row for row in rows}
    return [
        {
            "value": s.value,
            "label": s.label,
            "count": found.get(s.value, {}).get("count", 0),
            "amount": found.get(s.value, {}).get("amount") or Decimal("0.00"),
        }
        for s in Status
    ]
