"""Reads of customers, with their CSM joined so lists run a fixed number of queries."""

from __future__ import annotations

from django.db.models import QuerySet

from customers.models import Customer


def customer_list(
    *,
    search: str | None = None,
    csm_id: int | None = None,
    require_csm_approval: bool | None = None,
) -> QuerySet[Customer]:
    """Customers by name (then id) with their CSM; `search` is part of the name, any case."""
    qs = Customer.objects.select_related("csm")
    if search and search.strip():
        qs = qs.filter(name__icontains=search.strip())
    if csm_id:
        qs = qs.filter(csm_id=csm_id)
    if require_csm_approval is not None:
        qs = qs.filter(require_csm_approval=require_csm_approval)
    return qs.order_by("name", "id")


def customer_get(pk: int) -> Customer | None:
    """One customer with its CSM, or None."""
    return Customer.objects.select_related("csm").filter(pk=pk).first()
