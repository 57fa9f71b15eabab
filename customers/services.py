"""Writes about customers: their terms, effective from a month (SPEC "Data": the terms are
effective-dated; "every month is billed with the terms in force for it")."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from accounts.models import User
from billing_site.core import periods
from billing_site.core.errors import DomainError
from customers.models import TERMS_FIELDS, Customer, CustomerTerms

# Months before a customer's first recorded change: its terms as they were then.
BASE_PERIOD = (periods.MIN_YEAR, 1)


def customer_terms_check(
    *,
    effective_year: int,
    effective_month: int,
    monthly_api_limit: int,
    overage_unit_cost: Decimal,
) -> tuple[int, int]:
    """The rules a terms version must meet, for customer_terms_set and the admin's form alike:
    a month that is not in the future, a limit (API calls) and a unit cost (per call) that are
    not negative. Returns the parsed (year, month); writes nothing. Raises DomainError(kind=
    "invalid") naming "effective_month", "monthly_api_limit" or "overage_unit_cost"."""
    effective_year, effective_month = periods.parse(effective_year, effective_month)
    today = periods.today()
    if (effective_year, effective_month) > (today.year, today.month):
        raise DomainError.invalid(
            "Terms can take effect from this month or an earlier one, not a future month.",
            "effective_month",
        )
    if monthly_api_limit < 0:
        raise DomainError.invalid("The limit cannot be negative.", "monthly_api_limit")
    if overage_unit_cost < 0:
        raise DomainError.invalid("The unit cost cannot be negative.", "overage_unit_cost")
    return effective_year, effective_month


def customer_terms_set(
    *,
    customer: Customer,
    effective_year: int,
    effective_month: int,
    monthly_api_limit: int,
    overage_unit_cost: Decimal,
    require_csm_approval: bool,
    user: User | None,
) -> CustomerTerms:
    """Make these the customer's terms from (effective_year, effective_month) on, until its
    next version; the month's version is replaced if it has one. The customer's own columns
    follow the latest version, the one in force now. A customer without versions first gets a
    base version (from 2000-01) holding its terms as they were, so earlier months keep them.

    The month may not be in the future (enter a change when its month starts). Raises
    DomainError(kind="invalid") naming "effective_month" or a terms field. Atomic.
    """
    effective_year, effective_month = customer_terms_check(
        effective_year=effective_year,
        effective_month=effective_month,
        monthly_api_limit=monthly_api_limit,
        overage_unit_cost=overage_unit_cost,
    )
    values = {
        "monthly_api_limit": monthly_api_limit,
        "overage_unit_cost": overage_unit_cost,
        "require_csm_approval": require_csm_approval,
    }
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        versions = CustomerTerms.objects.filter(customer=customer)
        if not versions.exists():
            base_year, base_month = BASE_PERIOD
            CustomerTerms.objects.create(
                customer=customer,
                effective_year=base_year,
                effective_month=base_month,
                created_by=user,
                **{name: getattr(customer, name) for name in TERMS_FIELDS},
            )
        version, _ = CustomerTerms.objects.update_or_create(
            customer=customer,
            effective_year=effective_year,
            effective_month=effective_month,
            defaults={**values, "created_by": user},
        )
        latest = versions.order_by("-effective_year", "-effective_month").first()
        if any(getattr(customer, name) != getattr(latest, name) for name in TERMS_FIELDS):
            for name in TERMS_FIELDS:
                setattr(customer, name, getattr(latest, name))
            customer._history_user = user
            customer.save(update_fields=[*TERMS_FIELDS, "updated_at"])
        return version
