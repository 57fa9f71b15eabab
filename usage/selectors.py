"""Reads of usage."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from usage.models import Usage


def usage_list(
    *,
    customer_id: int | None = None,
    year: int | None = None,
    month: int | None = None,
    from_period: tuple[int, int] | None = None,
    to_period: tuple[int, int] | None = None,
) -> QuerySet[Usage]:
    """Usage rows, newest month first; `from_period`/`to_period` are inclusive (year, month)."""
    qs = Usage.objects.select_related("customer")
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if year:
        qs = qs.filter(year=year)
    if month:
        qs = qs.filter(month=month)
    if from_period:
        fy, fm = from_period
        qs = qs.filter(Q(year__gt=fy) | Q(year=fy, month__gte=fm))
    if to_period:
        ty, tm = to_period
        qs = qs.filter(Q(year__lt=ty) | Q(year=ty, month__lte=tm))
    return qs.order_by("-year", "-month", "customer__name", "id")
