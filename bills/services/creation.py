"""Making bills: one customer-month (`bill_create`) or a whole month end (`bill_generate`).

SPEC "Computing a bill" and "Bill lifecycle" (created). Both take the month's advisory lock, so
two racing creations for a month queue up; the partial unique index decides what slips past.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import F, FilteredRelation, Q
from django.utils import timezone

from accounts.models import User
from accounts.roles import Perm, require
from billing_site.core import periods
from billing_site.core.errors import DomainError
from bills.models import Action, Bill, Status, live_q
from bills.services import lifecycle
from bills.services.digest import digest_schedule
from bills.services.history import HistoryEntry, bill_save, bills_create
from bills.services.lifecycle import billable_period, period_lock
from bills.services.pricing import overage_amount_for, overage_units_for
from customers.models import TERMS_FIELDS, Customer
from customers.selectors import Terms, customer_terms_for, customer_terms_of_month
from usage.selectors import usage_of_month

# How many skipped customers a generation names per reason (the counts stay exact).
SKIPPED_NAMED = 100
# How often (in customers) a generation reports its progress to `counted`.
PROGRESS_EVERY = 2000


class SkippedCustomer(NamedTuple):
    """A customer a generation skipped: its id and name."""

    id: int
    name: str


@dataclass(frozen=True)
class GenerationResult:
    """What a month end did: bills created, customers skipped (how many per reason, and the
    first SKIPPED_NAMED of each reason by name in `skipped_customers`), the new bill ids."""

    created: int
    skipped: int
    skipped_reasons: dict[str, int]
    bill_ids: list[int]
    skipped_customers: dict[str, list[SkippedCustomer]] = field(default_factory=dict)


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
            units = overage_units_for(api_usage, terms.monthly_api_limit)
            amount = overage_amount_for(units, terms.overage_unit_cost)
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
            bill = Bill(
                customer=customer,
                year=year,
                month=month,
                api_usage=api_usage,
                monthly_api_limit=terms.monthly_api_limit,
                overage_units=units,
                overage_unit_cost=terms.overage_unit_cost,
                overage_amount=amount,
                requires_csm_approval=terms.require_csm_approval,
                terms_id=terms.id,
                status=Status.DRAFT,
                replaces=replaces,
            )
            entry = HistoryEntry(stakeholder=user, action=Action.CREATED)
            return bill_save(bill=bill, entry=entry)
    except IntegrityError:
        # The partial unique constraint decided a race we did not see coming.
        raise DomainError.conflict(
            f"{customer.name} was billed for {periods.label(year, month)} at the same moment."
        ) from None


def bill_generate(
    *,
    year: int,
    month: int,
    user: User,
    progress: Callable[[str], None] | None = None,
    counted: Callable[[int, int], None] | None = None,
) -> GenerationResult:
    """Bill every customer with overage in a month that has ended, in one transaction.

    Idempotent: customers already billed (by a live bill) are skipped, as are customers not
    under contract that month and those without overage (or whose amount rounds to 0.00); the
    result counts them per reason and names the first SKIPPED_NAMED of each by name. Runs a
    fixed number of queries whatever the customer count: one read, one insert of bills, one
    insert of history.
    `progress` hears about each phase, `counted` (processed, total) every PROGRESS_EVERY
    customers and once all are read; nothing is committed until it returns. Once committed,
    the approvers the new bills wait on get one digest email each (services.digest).
    Raises DomainError: forbidden (not Finance); invalid naming "year"/"month"; conflict when
    another generation of the month inserted at the same moment.
    """
    report = progress or (lambda message: None)
    require(user, Perm.GENERATE_BILLS)
    year, month = billable_period(year, month)
    reasons: Counter[str] = Counter()
    skipped: dict[str, list[SkippedCustomer]] = {}

    def skip(reason: str, row: dict) -> None:
        reasons[reason] += 1
        skipped.setdefault(reason, []).append(SkippedCustomer(row["id"], row["name"]))

    try:
        with transaction.atomic():
            period_lock(year, month)
            report(f"Reading customers and their usage for {periods.label(year, month)}...")
            now = timezone.now()
            versions = customer_terms_of_month(year=year, month=month)
            new_bills = []
            # Not .iterator(): a server-side cursor makes PostgreSQL plan for the first rows
            # (cursor_tuple_fraction) and pick nested loops, 100x slower for the whole month.
            rows = _generation_rows(year, month)
            total = len(rows)
            for index, row in enumerate(rows):
                if counted and index % PROGRESS_EVERY == 0:
                    counted(index, total)
                if not periods.contract_covers(row["start_date"], row["end_date"], year, month):
                    skip("not under contract", row)
                    continue
                if row["billed_id"] is not None:
                    skip("already billed", row)
                    continue
                api_usage = int(row["usage"] or 0)
                # The terms in force for the month; without versions, the customer's own.
                terms = versions.get(row["id"]) or Terms(
                    id=None, **{name: row[name] for name in TERMS_FIELDS}
                )
                units = overage_units_for(api_usage, terms.monthly_api_limit)
                if units == 0:
                    skip("no overage", row)
                    continue
                amount = overage_amount_for(units, terms.overage_unit_cost)
                if amount == 0:
                    skip("amount rounds to 0.00", row)
                    continue
                new_bills.append(
                    Bill(
                        customer_id=row["id"],
                        year=year,
                        month=month,
                        api_usage=api_usage,
                        monthly_api_limit=terms.monthly_api_limit,
                        overage_units=units,
                        overage_unit_cost=terms.overage_unit_cost,
                        overage_amount=amount,
                        requires_csm_approval=terms.require_csm_approval,
                        terms_id=terms.id,
                        status=Status.DRAFT,
                        created_at=now,
                        updated_at=now,
                    )
                )
            if counted:
                counted(total, total)
            report(
                f"Read {len(new_bills) + sum(reasons.values()):,} customers; "
                f"writing {len(new_bills):,} bills and their history..."
            )
            entry = HistoryEntry(stakeholder=user, action=Action.CREATED)
            created = bills_create(bills=new_bills, entry=entry)
            # Each person the new bills wait on hears once, after the commit (services.digest).
            digest_schedule(bill_ids=[b.pk for b in created], year=year, month=month)
    except IntegrityError:
        raise DomainError.conflict(
            f"Bills for {periods.label(year, month)} were being created at the same moment; "
            "run the generation again (it skips what is already billed)."
        ) from None
    return GenerationResult(
        created=len(created),
        skipped=sum(reasons.values()),
        skipped_reasons=dict(reasons),
        bill_ids=[b.pk for b in created],
        skipped_customers={
            reason: heapq.nsmallest(SKIPPED_NAMED, found, key=lambda c: (c.name, c.id))
            for reason, found in skipped.items()
        },
    )


def _generation_rows(year: int, month: int):
    """Every customer with its month's usage and live bill, as LEFT JOINs (each at most one row:
    both are unique per customer-month). Correlated subqueries here let a planner with stale
    statistics (right after a bulk usage import) rescan the usage index once per customer."""
    return (
        Customer.objects.annotate(
            month_usage=FilteredRelation(
                "usage_records",
                condition=Q(usage_records__year=year, usage_records__month=month),
            ),
            live_bill=FilteredRelation(
                "bills",
                condition=Q(bills__year=year, bills__month=month) & live_q("bills__"),
            ),
        )
        .values(
            "id",
            "name",
            "start_date",
            "end_date",
            "monthly_api_limit",
            "overage_unit_cost",
            "require_csm_approval",
            usage=F("month_usage__api_usage"),
            billed_id=F("live_bill__id"),
        )
        .order_by()
    )
