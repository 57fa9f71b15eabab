"""Making one bill: a customer-month (`bill_create`) or a void bill's month again (`bill_rebill`).

SPEC "Computing a bill" and "Bill lifecycle" (created). Both take the month's advisory lock, as
the month end does (services.generation), so racing creations for a month queue up; the partial
unique index decides what slips past.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.roles import Perm, require
from billing_site.core import periods
from billing_site.core.errors import DomainError
from bills.models import Action, Bill, Status, live_q
from bills.services import lifecycle
from bills.services.history import HistoryEntry, bill_save
from bills.services.lifecycle import billable_period, period_lock
from bills.services.pricing import overage_amount_for, overage_units_for
from customers.models import Customer
from customers.selectors import Terms, customer_terms_for
from usage.selectors import usage_of_month


def bill_create(*, customer_id: int, year: int, month: int, user: User) -> Bill:
    """Bill one customer-month from its usage and the customer's terms in force for that month
    (customers.selectors.customer_terms_for), as a draft. If the
    month has a void bill not yet billed again, the new bill replaces it (the two link).

    Raises DomainError: forbidden (not Finance); invalid naming "customer_id" (no such
    customer, no overage, or an amount that rounds to 0.00: nothing to bill) or "year"/"month"
    (not a month that has ended, or not under contract then); conflict (a live bill exists for
    that customer-month).
    """
    require(user, Perm.CREATE_BILL)
    year, month = billable_period(year, month)
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise DomainError.invalid(f"No customer has id {customer_id}.", "customer_id")
    return _bill_new(customer=customer, year=year, month=month, user=user)


def bill_rebill(*, bill: Bill | int, user: User, version: int | None = None) -> Bill:
    """Bill a void bill's customer-month again, in one step: a new draft from the month's
    current usage and the customer's current terms, linked to the void bill (`replaces`), whose
    history records it (SPEC "Bill lifecycle": voided, "the customer-month may be billed
    again"). Returns the new bill.

    Raises DomainError: not_found; forbidden (not Finance); conflict (not void, or the month
    already has a live bill); invalid (nothing to bill now: no overage or 0.00).
    """
    with transaction.atomic():
        void = lifecycle.bill_lock(bill=bill)
        require(user, Perm.CREATE_BILL)
        lifecycle.check(void, "rebill", version=version)
        new = _bill_new(
            customer=void.customer, year=void.year, month=void.month, user=user, replaces=void
        )
        entry = HistoryEntry(
            stakeholder=user,
            action=Action.REBILLED,
            from_status=Status.VOID,
            comment=f"Billed again as bill #{new.pk}.",
        )
        bill_save(bill=void, entry=entry)
        return new


def draft_bill(*, customer_id: int, year: int, month: int, api_usage: int, terms: Terms) -> Bill:
    """The (unsaved) draft bill of a customer-month from its usage (calls) and the terms in
    force (SPEC "Computing a bill": overage units = max(usage - limit, 0), amount = units x unit
    cost rounded half-up to cents, Decimal). The caller decides what 0 units or 0.00 mean and
    saves it (bill_save, or history.bills_create in bulk)."""
    units = overage_units_for(api_usage, terms.monthly_api_limit)
    return Bill(
        customer_id=customer_id,
        year=year,
        month=month,
        api_usage=api_usage,
        monthly_api_limit=terms.monthly_api_limit,
        overage_units=units,
        overage_unit_cost=terms.overage_unit_cost,
        overage_amount=overage_amount_for(units, terms.overage_unit_cost),
        requires_csm_approval=terms.require_csm_approval,
        terms_id=terms.id,
        status=Status.DRAFT,
    )


def _bill_new(
    *, customer: Customer, year: int, month: int, user: User, replaces: Bill | None = None
) -> Bill:
    if not periods.contract_covers(customer.start_date, customer.end_date, year, month):
        raise DomainError.invalid(
            f"{customer.name} is not under contract in {periods.label(year, month)}.", "month"
        )
    try:
        with transaction.atomic():
            period_lock(year, month)
            existing = Bill.objects.live().filter(customer=customer, year=year, month=month).first()
            if existing:
                raise DomainError.conflict(
                    f"{customer.name} already has bill #{existing.pk} ({existing.status}) for "
                    f"{periods.label(year, month)}; void it before billing the month again."
                )
            if replaces is None:
                replaces = (
                    Bill.objects.filter(
                        customer=customer, year=year, month=month, replaced_by__isnull=True
                    )
                    .exclude(live_q())
                    .order_by("-id")
                    .first()
                )
            # A billed month is a 409 whatever its usage says now (recompute that bill instead);
            # the usage is read under the month's lock, as generation reads it.
            api_usage = usage_of_month(customer_id=customer.pk, year=year, month=month)
            terms = customer_terms_for(customer=customer, year=year, month=month)
            bill = draft_bill(
                customer_id=customer.pk, year=year, month=month, api_usage=api_usage, terms=terms
            )
            units, amount = bill.overage_units, bill.overage_amount
            if units == 0:
                raise DomainError.invalid(
                    f"No overage: {customer.name} used {api_usage:,} of "
                    f"{terms.monthly_api_limit:,} API calls in {periods.label(year, month)}, "
                    "so there is nothing to bill.",
                    "customer_id",
                )
            if amount == 0:
                raise DomainError.invalid(
                    f"The amount rounds to 0.00: {units:,} calls over the limit at "
                    f"{terms.overage_unit_cost} per call, so there is nothing to bill.",
                    "customer_id",
                )
            bill.customer, bill.replaces = customer, replaces
            entry = HistoryEntry(stakeholder=user, action=Action.CREATED)
            return bill_save(bill=bill, entry=entry)
    except IntegrityError:
        # The partial unique constraint decided a race we did not see coming.
        raise DomainError.conflict(
            f"{customer.name} was billed for {periods.label(year, month)} at the same moment."
        ) from None
