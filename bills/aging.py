"""What is owed on sent invoices and how late it is: the conditions of the outstanding, overdue
and aging filters (bills.filters) and the dashboard's aging tiles (bill_aging_totals).

A bill is outstanding while it is sent and not paid in full (a bill is paid once its payments
cover its amount), and overdue once today is after its invoice's due date. The aging buckets
(models_payments.AGING_BUCKETS) count days past that due date. "Today" is today in
settings.TIME_ZONE (core.periods.today) unless a caller passes one.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, localcontext

from django.db import connections
from django.db.models import Case, CharField, Count, Q, QuerySet, Sum, Value, When

from billing_site.core import periods
from billing_site.core.money import PRECISION, round_to_cents
from bills.models import Bill, Status
from bills.models_payments import AGING_BUCKETS

AGING_CHOICES = [(bucket.key, bucket.label) for bucket in AGING_BUCKETS]
_BUCKETS = {bucket.key: bucket for bucket in AGING_BUCKETS}


def outstanding_q() -> Q:
    """Bills with a balance due: sent, not yet paid in full."""
    return Q(status=Status.SENT)


def overdue_q(today: date | None = None) -> Q:
    """Outstanding bills whose invoice was due before `today`."""
    return outstanding_q() & Q(invoice__due_on__lt=today or periods.today())


def aging_q(key: str, today: date | None = None) -> Q:
    """Outstanding bills in the aging bucket `key` (an AGING_CHOICES value) on `today`.
    Raises KeyError for another key (the filter's choices refuse it first)."""
    return outstanding_q() & _BUCKETS[key].due_q(today or periods.today())


def _bucket_of(today: date) -> Case:
    return Case(
        *(When(bucket.due_q(today), then=Value(bucket.key)) for bucket in AGING_BUCKETS),
        output_field=CharField(),
    )


def bill_aging_totals(*, bills: QuerySet[Bill] | None = None, today: date | None = None) -> dict:
    """The outstanding bills of `bills` (default: every bill) by days past due on `today`:

        {"outstanding": {"count", "amount"}, "overdue": {"count", "amount"},
         "buckets": [{"key", "label", "count", "amount"}, ...]}   # AGING_BUCKETS' order

    `amount` is the exact total balance due (Decimal, cents: amount less payments), `count` a
    whole number; "overdue" adds every bucket but "current". One grouped query; PostgreSQL adds
    NUMERIC exactly, on SQLite (whose SUM goes through floats) the rows are added in Python.
    """
    today = today or periods.today()
    qs = (Bill.objects.all() if bills is None else bills).filter(outstanding_q()).order_by()
    qs = qs.annotate(aging_bucket_key=_bucket_of(today))
    found: dict[str, tuple[int, Decimal]] = {}
    with localcontext(prec=PRECISION):
        if connections[qs.db].vendor != "sqlite":
            rows = qs.values("aging_bucket_key").annotate(
                n=Count("pk"), owed=Sum("overage_amount"), paid=Sum("amount_paid")
            )
            for row in rows:
                balance = (row["owed"] or Decimal(0)) - (row["paid"] or Decimal(0))
                found[row["aging_bucket_key"]] = (row["n"], balance)
        else:
            pairs = qs.values_list("aging_bucket_key", "overage_amount", "amount_paid")
            for key, owed, paid in pairs.iterator(chunk_size=5000):
                count, total = found.get(key, (0, Decimal(0)))
                found[key] = (count + 1, total + owed - paid)
        buckets = [
            {
                "key": b.key,
                "label": b.label,
                "count": found.get(b.key, (0, None))[0],
                "amount": round_to_cents(found.get(b.key, (0, Decimal(0)))[1]),
            }
            for b in AGING_BUCKETS
        ]
        late = [b for b in buckets if b["key"] != AGING_BUCKETS[0].key]
        return {
            "outstanding": _total(buckets),
            "overdue": _total(late),
            "buckets": buckets,
        }


def _total(buckets: list[dict]) -> dict:
    return {
        "count": sum(b["count"] for b in buckets),
        "amount": round_to_cents(sum((b["amount"] for b in buckets), Decimal("0.00"))),
    }
