"""A whole month end: `bill_generate` bills every customer with overage in a month that has ended.

SPEC "Computing a bill" and "Bill lifecycle" (created). On PostgreSQL the month is billed by
set-based SQL (generation_sql.CHUNK_SQL): each statement reads a chunk of customers with their
month's usage, live bill and terms in force, inserts the new bills and their `created` history
rows, and returns the skipped customers; numeric arithmetic in PostgreSQL is exact, and round()
rounds half away from zero, which is half-up for amounts >= 0 (services.pricing's rule). Other
databases (SQLite, the embedded default of `make run`) compute each bill in Python with
services.pricing, as bill_create does; tests hold both to the same bills.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, FilteredRelation, Q
from django.utils import timezone

from accounts.models import User
from accounts.roles import Perm, require
from billing_site.core import periods
from billing_site.core.errors import DomainError
from bills.models import Action, live_q
from bills.services import generation_sql
from bills.services.creation import draft_bill
from bills.services.digest import digest_schedule
from bills.services.history import HistoryEntry, bills_create
from bills.services.lifecycle import billable_period, period_lock
from customers.models import TERMS_FIELDS, Customer
from customers.selectors import Terms, customer_terms_of_month

# How many skipped customers a generation names per reason (the counts stay exact).
SKIPPED_NAMED = 100
# How many customers one statement bills (PostgreSQL), and how often (in customers) a
# generation reports its progress to `counted`.
PROGRESS_EVERY = 25_000

Counted = Callable[[int, int], None]


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


class _Tally:
    """The skipped customers of a run as they are found: exact counts, the first names."""

    def __init__(self) -> None:
        self.reasons: Counter[str] = Counter()
        self.named: dict[str, list[SkippedCustomer]] = {}
        self.read = 0  # customers gone through

    def skip(self, reason: str, customer: SkippedCustomer) -> None:
        """One customer skipped for `reason`: counted and named."""
        self.count(reason, 1)
        self.name(reason, customer)

    def count(self, reason: str, customers: int) -> None:
        self.reasons[reason] += customers

    def name(self, reason: str, customer: SkippedCustomer) -> None:
        self.named.setdefault(reason, []).append(customer)

    def result(self, bill_ids: list[int]) -> GenerationResult:
        return GenerationResult(
            created=len(bill_ids),
            skipped=sum(self.reasons.values()),
            skipped_reasons=dict(self.reasons),
            bill_ids=bill_ids,
            skipped_customers={
                reason: heapq.nsmallest(SKIPPED_NAMED, found, key=lambda c: (c.name, c.id))
                for reason, found in self.named.items()
            },
        )


def bill_generate(
    *,
    year: int,
    month: int,
    user: User,
    progress: Callable[[str], None] | None = None,
    counted: Counted | None = None,
) -> GenerationResult:
    """Bill every customer with overage in a month that has ended, in one transaction.

    Idempotent: customers already billed (by a live bill) are skipped, as are customers not
    under contract that month and those without overage (or whose amount rounds to 0.00); the
    result counts them per reason and names the first SKIPPED_NAMED of each by name. Each bill
    uses the customer's terms in force for the month (customers.selectors
    .customer_terms_of_month) and gets one `created` history row by `user`. A fixed number of
    queries per PROGRESS_EVERY customers, none per bill.
    `progress` hears about each phase, `counted` (processed, total) as the customers are gone
    through (at least at the start and the end); nothing is committed until it returns. Once
    committed, the approvers the new bills wait on get one digest email each (services.digest).
    Raises DomainError: forbidden (not Finance); invalid naming "year"/"month"; conflict when
    another generation of the month inserted at the same moment.
    """
    report = progress or (lambda message: None)
    require(user, Perm.GENERATE_BILLS)
    year, month = billable_period(year, month)
    tally = _Tally()
    try:
        with transaction.atomic():
            period_lock(year, month)
            report(
                f"Reading customers and their usage for {periods.label(year, month)} "
                "and writing their bills..."
            )
            make = _generate_sql if connection.vendor == "postgresql" else _generate_python
            bill_ids = make(year=year, month=month, user=user, tally=tally, counted=counted)
            report(
                f"Read {tally.read:,} customers; wrote {len(bill_ids):,} bills and their history."
            )
            # Each person the new bills wait on hears once, after the commit (services.digest).
            digest_schedule(bill_ids=bill_ids, year=year, month=month)
    except IntegrityError:
        raise DomainError.conflict(
            f"Bills for {periods.label(year, month)} were being created at the same moment; "
            "run the generation again (it skips what is already billed)."
        ) from None
    return tally.result(bill_ids)


def _generate_sql(
    *, year: int, month: int, user: User, tally: _Tally, counted: Counted | None
) -> list[int]:
    """PostgreSQL: CHUNK_SQL over the customers in id order, PROGRESS_EVERY at a time."""
    params = generation_sql.chunk_params(
        year=year,
        month=month,
        user=user,
        currency=settings.CURRENCY,
        now=timezone.now(),
        named=SKIPPED_NAMED,
        size=PROGRESS_EVERY,
    )
    bill_ids: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers_customer")
        total = cursor.fetchone()[0]
        done, after = 0, 0
        while True:
            if counted:
                counted(done, total)
            cursor.execute(generation_sql.CHUNK_SQL, {**params, "after": after})
            last = None
            for kind, reason, key, name, n in cursor.fetchall():
                if kind == generation_sql.BILL:
                    bill_ids.append(key)
                elif kind == generation_sql.COUNT:
                    tally.count(reason, n)
                elif kind == generation_sql.NAME:
                    tally.name(reason, SkippedCustomer(key, name))
                else:  # LAST
                    last, read = key, n
            if last is None:
                break
            done, after = done + read, last
    tally.read = done
    if counted:
        counted(done, max(done, total))
    bill_ids.sort()
    return bill_ids


def _generate_python(
    *, year: int, month: int, user: User, tally: _Tally, counted: Counted | None
) -> list[int]:
    """Other databases: each customer's bill computed in Python (services.pricing), written in
    two bulk INSERTs (history.bills_create)."""
    now = timezone.now()
    versions = customer_terms_of_month(year=year, month=month)
    new_bills = []
    rows = list(_generation_rows(year, month))
    total = len(rows)
    for index, row in enumerate(rows):
        if counted and index % PROGRESS_EVERY == 0:
            counted(index, total)
        customer = SkippedCustomer(row["id"], row["name"])
        if not periods.contract_covers(row["start_date"], row["end_date"], year, month):
            tally.skip(generation_sql.NOT_UNDER_CONTRACT, customer)
            continue
        if row["billed_id"] is not None:
            tally.skip(generation_sql.ALREADY_BILLED, customer)
            continue
        api_usage = int(row["usage"] or 0)
        # The terms in force for the month; without versions, the customer's own.
        terms = versions.get(row["id"]) or Terms(
            id=None, **{name: row[name] for name in TERMS_FIELDS}
        )
        bill = draft_bill(
            customer_id=row["id"], year=year, month=month, api_usage=api_usage, terms=terms
        )
        if bill.overage_units == 0:
            tally.skip(generation_sql.NO_OVERAGE, customer)
            continue
        if bill.overage_amount == 0:
            tally.skip(generation_sql.ROUNDS_TO_ZERO, customer)
            continue
        bill.computed_at = bill.created_at = bill.updated_at = now
        new_bills.append(bill)
    tally.read = total
    if counted:
        counted(total, total)
    entry = HistoryEntry(stakeholder=user, action=Action.CREATED)
    return sorted(b.pk for b in bills_create(bills=new_bills, entry=entry))


def _generation_rows(year: int, month: int):
    """Every customer with its month's usage and live bill, as LEFT JOINs (each at most one row:
    both are unique per customer-month)."""
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
            *TERMS_FIELDS,
            usage=F("month_usage__api_usage"),
            billed_id=F("live_bill__id"),
        )
        .order_by("id")
    )
