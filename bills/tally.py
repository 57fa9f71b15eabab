"""Reads of bills_billtally (bills.models_tally): the per-period counts and the per-status
counts and totals of ALL bills, from a few dozen rows instead of every bill (issue 14).

Only for a list with no filter at all, on PostgreSQL (whose triggers keep the tally); any
other list, and SQLite, counts its bills itself (the callers: bills.paging.PeriodPages,
bills.selectors.bill_status_totals).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet, Sum

from bills.models import Bill
from bills.models_tally import BillTally

_ZERO = Decimal("0.00")


def tally_covers(bills: QuerySet[Bill]) -> bool:
    """Whether `bills` is every bill (no WHERE, no DISTINCT, no slice, no combination) on a
    database whose triggers keep the tally (PostgreSQL)."""
    query = bills.query
    return (
        connection.vendor == "postgresql"
        and bills.model is Bill
        and not query.where
        and not query.distinct
        and not query.combinator
        and query.low_mark == 0
        and query.high_mark is None
    )


def tally_periods() -> list[tuple[int, int, int]]:
    """(year, month, how many bills) of every period with bills, newest first. One query."""
    rows = (
        BillTally.objects.values_list("year", "month")
        .annotate(n=Sum("bills"))
        .filter(n__gt=0)
        .order_by("-year", "-month")
    )
    return [(year, month, n) for year, month, n in rows]


def tally_statuses() -> dict[str, tuple[int, tuple[Decimal, Decimal]]]:
    """{status: (how many bills, (their overage_amount, their amount_paid))} over every bill,
    exact (NUMERIC sums), statuses with no bill left out; the shape of
    core.money.money_totals_of(key="status", amounts=("overage_amount", "amount_paid")). One
    query."""
    rows = (
        BillTally.objects.values_list("status")
        .annotate(n=Sum("bills"), amount=Sum("overage_amount"), paid=Sum("amount_paid"))
        .filter(n__gt=0)
        .order_by()
    )
    return {status: (n, (amount or _ZERO, paid or _ZERO)) for status, n, amount, paid in rows}


def tally_compact() -> None:
    """Fold the tally's rows into one per (year, month, status), unless another compaction is
    under way (then nothing). The triggers do this now and then by themselves; for tests and
    maintenance. PostgreSQL only (a no-op elsewhere)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT bills_tally_compact()")
