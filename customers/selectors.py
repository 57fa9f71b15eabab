"""Reads of customers, with their CSM joined so lists run a fixed number of queries."""

from __future__ import annotations

from django.db.models import QuerySet

from customers.models import Customer


def customer_list() -> QuerySet[Customer]:
    """Every customer by name (then id), its CSM joined. Which customers a list shows is
    customers.filters.CustomerFilterSet's."""
    return Customer.objects.select_related("csm").order_by("name", "id")


def customer_get(pk: int) -> Customer | None:
    """One customer with its CSM joined, or None."""
    return Customer.objects.select_related("csm").filter(pk=pk).first()
