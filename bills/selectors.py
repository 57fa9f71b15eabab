"""Reads of bills, with everything a list or a page shows already joined or prefetched."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
)

from bills.models import Bill, BillAction, Status, live_q
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


def bill_list_of_customer(customer_id: int) -> list[Bill]:
    """Every bill of one customer, void ones included, newest period first (then newest bill);
    each is annotated `is_live` (models.live_q): whether it counts for its customer-month."""
    return list(
        Bill.objects.filter(customer_id=customer_id)
        .select_related("customer")
        .annotate(is_live=ExpressionWrapper(live_q(), output_field=BooleanField()))
        .order_by("-year", "-month", "-id")
    )


def bill_list_stale(recorded: Iterable[tuple[int, int, int, int]]) -> list[Bill]:
    """Unsent bills (BillQuerySet.unsent) of the recorded (customer_id, year, month,
    api_usage) customer-months that were computed from another total than the one recorded.

    One query however many months: the IN lists select a superset, Python keeps the exact
    customer-months (an OR of 10,000 conditions would be too deep a tree for SQLite).
    """
    wanted = {(c, y, m): usage for c, y, m, usage in recorded}
    if not wanted:
        return []
    bills = (
        bill_list()
        .filter(
            customer_id__in={c for c, _, _ in wanted},
            year__in={y for _, y, _ in wanted},
            month__in={m for _, _, m in wanted},
        )
        .unsent()
        # The recorded totals are now the current usage: let the database drop the bills that
        # still match, so a re-upload of a billed month does not build 10,000 objects for nothing.
        .exclude(api_usage=F("current_usage"))
    )
    return [
        bill
        for bill in bills
        if (key := (bill.customer_id, bill.year, bill.month)) in wanted
        and bill.api_usage != wanted[key]
    ]


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
