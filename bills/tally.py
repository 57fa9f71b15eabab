"""Reads of bills_billtally (bills.models_tally): the per-period counts and the per-status
counts and totals of ALL bills, from a few dozen rows instead of every bill (issue 14).

Only for a list of every bill or of every bill of one status (the status filter), on
PostgreSQL (whose triggers keep the tally): tally_scope says which; any other list, and SQLite,
counts its bills itself (the callers: bills.paging, bills.selectors.bill_status_totals and
bill_list_totals).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet, Sum
from django.db.models.expressions import Col
from django.db.models.lookups import Exact
from django.db.models.sql.where import AND, WhereNode

from bills.models import Bill
from bills.models_tally import BillTally

_ZERO = Decimal("0.00")


def tally_scope(bills: QuerySet[Bill]) -> dict[str, str] | None:
    """What of the tally `bills` is, for tally_periods and tally_statuses: {} for every bill,
    {"status": value} for every bill of one status (a WHERE of exactly `status = value`, as
    the status filter writes it), None for any other list (another filter, DISTINCT, a slice,
    a combination) and on a database without the tally's triggers (SQLite)."""
    query = bills.query
    if not (
        connection.vendor == "postgresql"
        and bills.model is Bill
        and not query.distinct
        and not query.combinator
        and query.low_mark == 0
        and query.high_mark is None
    ):
        return None
    if not query.where:
        return {}
    status = _status_only(query.where)
    return None if status is None else {"status": status}


def _status_only(where: WhereNode) -> str | None:
    # The value of a WHERE that is exactly `bills_bill.status = 'value'` (possibly nested in
    # single-child ANDs), else None.
    while isinstance(where, WhereNode):
        if where.negated or where.connector != AND or len(where.children) != 1:
            return None
        (where,) = where.children
    if (
        isinstance(where, Exact)
        and isinstance(where.lhs, Col)
        and where.lhs.alias == Bill._meta.db_table
        and where.lhs.target is Bill._meta.get_field("status")
        and isinstance(where.rhs, str)
    ):
        return where.rhs
    return None


def tally_periods(**scope: str) -> list[tuple[int, int, int]]:
    """(year, month, how many bills) of every period with bills (of `scope`, tally_scope's:
    e.g. status="draft"), newest first. One query."""
    rows = (
        BillTally.objects.filter(**scope)
        .values_list("year", "month")
        .annotate(n=Sum("bills"))
        .filter(n__gt=0)
        .order_by("-year", "-month")
    )
    return [(year, month, n) for year, month, n in rows]


def tally_statuses(**scope: str) -> dict[str, tuple[int, tuple[Decimal, Decimal]]]:
    """{status: (how many bills, (their overage_amount, their amount_paid))} over every bill
    (of `scope`, tally_scope's), exact (NUMERIC sums), statuses with no bill left out; the
    shape of core.money.money_totals_of(key="status", amounts=("overage_amount",
    "amount_paid")). One query."""
    rows = (
        BillTally.objects.filter(**scope)
        .values_list("status")
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
