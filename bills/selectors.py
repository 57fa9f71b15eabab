"""Reads of bills, with everything a list or a page shows already joined or prefetched."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, localcontext

from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from billing_site.core.money import PRECISION, money_totals_of, round_to_cents
from bills.models import OWED_STATUSES, Bill, BillAction, Delivery, Payment, Status, live_q
from bills.tally import tally_periods, tally_scope, tally_statuses
from customers.models import CustomerTerms
from usage.models import Usage


def _with_current_terms(qs: QuerySet[Bill]) -> QuerySet[Bill]:
    # The terms version in force for each bill's month now (Bill.terms_changed): the latest
    # from that month or before, else the customer's first; None for a customer without any.
    versions = CustomerTerms.objects.filter(customer=OuterRef("customer_id"))
    in_force = versions.filter(
        Q(effective_year__lt=OuterRef("year"))
        | Q(effective_year=OuterRef("year"), effective_month__lte=OuterRef("month"))
    ).order_by("-effective_year", "-effective_month")
    first = versions.order_by("effective_year", "effective_month")
    return qs.annotate(
        current_terms_id=Coalesce(
            Subquery(in_force.values("id")[:1]), Subquery(first.values("id")[:1])
        )
    )


def _with_current_usage(qs: QuerySet[Bill]) -> QuerySet[Bill]:
    current = Usage.objects.filter(
        customer=OuterRef("customer_id"), year=OuterRef("year"), month=OuterRef("month")
    ).values("api_usage")[:1]
    return _with_current_terms(qs.annotate(current_usage=Subquery(current)))


# A bill's issued documents and its replacement, joined in the same query; their PDFs (tens of
# kilobytes each) are left out of lists and pages: downloads read them.
_DOCUMENTS = ("invoice", "invoice__credit_note", "replaced_by")
_PDFS = ("invoice__pdf", "invoice__credit_note__pdf")


def bill_list() -> QuerySet[Bill]:
    """Every bill, newest period first (then customer name, then newest bill).

    Joins the customer and its CSM; annotates `current_usage`, the month's usage as recorded
    now (None when no row), so `usage_changed` costs no query per row. Which bills a list shows
    and in which order is bills.filters.BillFilterSet's.
    """
    qs = Bill.objects.select_related("customer", "customer__csm").select_related(*_DOCUMENTS)
    return _with_current_usage(qs.defer(*_PDFS)).order_by(
        "-year", "-month", "customer__name", "-id"
    )


def bill_list_of_customer(customer_id: int) -> list[Bill]:
    """Every bill of one customer, void ones included, newest period first (then newest bill);
    each is annotated `is_live` (models.live_q): whether it counts for its customer-month."""
    return list(
        Bill.objects.filter(customer_id=customer_id)
        .select_related("customer", *_DOCUMENTS)
        .defer(*_PDFS)
        .annotate(is_live=ExpressionWrapper(live_q(), output_field=BooleanField()))
        .order_by("-year", "-month", "-id")
    )


def bill_list_stale(recorded: Iterable[tuple[int, int, int, int]]) -> list[Bill]:
    """Unsent bills (BillQuerySet.unsent) of the recorded (customer_id, year, month,
    api_usage) customer-months that were computed from another total than the one recorded.

    One query however many months: the IN lists select a superset, Python keeps the exact
    customer-months (an OR of 10,000 conditions would be too deep a tree for SQLite).
    """
    wanted = {(c, y, m): usage for c, y, m, usage in recorded}
    if not wanted:
        return []
    bills = (
        bill_list()
        .filter(
            customer_id__in={c for c, _, _ in wanted},
            year__in={y for _, y, _ in wanted},
            month__in={m for _, _, m in wanted},
        )
        .unsent()
        # The recorded totals are now the current usage: let the database drop the bills that
        # still match, so a re-upload of a billed month does not build 10,000 objects for nothing.
        .exclude(api_usage=F("current_usage"))
    )
    return [
        bill
        for bill in bills
        if (key := (bill.customer_id, bill.year, bill.month)) in wanted
        and bill.api_usage != wanted[key]
    ]


def _actions() -> QuerySet[BillAction]:
    return BillAction.objects.select_related("stakeholder").order_by("created_at", "id")


def _payments() -> QuerySet[Payment]:
    return Payment.objects.select_related("recorded_by", "undone_by").order_by("received_on", "id")


def _deliveries() -> QuerySet[Delivery]:
    return Delivery.objects.select_related("invoice", "credit_note").defer(
        "invoice__pdf", "credit_note__pdf"
    )


def _detail_rows() -> QuerySet[Bill]:
    # The people named on the bill (its CSM and approvers) are read apart (bill_get): three
    # more users in this join made PostgreSQL spend ~4 ms planning each detail read (issue 14).
    return _with_current_usage(Bill.objects.select_related("customer", *_DOCUMENTS).defer(*_PDFS))


def bill_detail_queryset() -> QuerySet[Bill]:
    """Bills for a detail page or answer: joins the customer and its documents, prefetches
    the history (`actions`, oldest first, each with its stakeholder), the `payments` (undone
    ones too, by date received, with who recorded and undid them) and the `deliveries` of its
    documents' emails (newest first), and annotates `current_usage` as bill_list does."""
    return _detail_rows().prefetch_related(
        Prefetch("actions", queryset=_actions()),
        Prefetch("payments", queryset=_payments()),
        Prefetch("deliveries", queryset=_deliveries()),
    )


def bill_get(pk: int, *, history: bool = True) -> Bill | None:
    """One bill, or None. With its history as bill_detail_queryset gives it and the people
    named on it (the customer's CSM, the approvers; one query for all of them, none when
    there are none): 5 queries at most; with `history=False`, only what a row of bill_list
    carries (one query)."""
    # One row by its key: no ORDER BY (compiling the list's order against the annotations
    # cost several ms a call, for nothing).
    bill = next(
        iter((_detail_rows() if history else bill_list()).filter(pk=pk).order_by()[:1]), None
    )
    if bill is not None and history:
        _with_history(bill)
        _with_people(bill)
    return bill


def _with_history(bill: Bill) -> None:
    """Fill bill.actions, bill.payments and bill.deliveries as bill_detail_queryset's
    prefetches do (the same querysets, each row's `bill` set), with one plain query each: for
    one bill, Django's prefetch machinery cost a quarter of the read (issue 14)."""
    for name, rows in (
        ("actions", _actions()),
        ("payments", _payments()),
        ("deliveries", _deliveries()),
    ):
        found = list(rows.filter(bill_id=bill.pk))
        for row in found:
            row.bill = bill
        cached = getattr(bill, name).all()  # what prefetch_related stores: a filled queryset
        cached._result_cache, cached._prefetch_done = found, True
        bill.__dict__.setdefault("_prefetched_objects_cache", {})[name] = cached


def _with_people(bill: Bill) -> None:
    """Set bill.customer.csm, bill.csm_approved_by and bill.sales_approved_by from one query."""
    from accounts.models import User

    slots = [
        (bill.customer, "csm"),
        (bill, "csm_approved_by"),
        (bill, "sales_approved_by"),
    ]
    ids = {getattr(obj, f"{name}_id") for obj, name in slots} - {None}
    people = User.objects.in_bulk(ids) if ids else {}
    for obj, name in slots:
        setattr(obj, name, people.get(getattr(obj, f"{name}_id")))


def bill_status_totals(*, bills: QuerySet[Bill] | None = None) -> list[dict]:
    """Each status, in the lifecycle's order, as {"value", "label", "count", "amount", "paid"}:
    how many of `bills` (default: every bill) have it, their exact total amount and the exact
    total of the payments recorded against them (Decimal, on PostgreSQL and SQLite alike:
    core.money.money_totals_of). One grouped query: of the tally (bills.tally) when `bills` is
    every bill, on PostgreSQL."""
    bills = Bill.objects.all() if bills is None else bills
    if (scope := tally_scope(bills)) is not None:
        return _status_rows(tally_statuses(**scope))
    return _status_rows(money_totals_of(bills, key="status", amounts=_AMOUNTS))


def bill_list_totals(
    bills: QuerySet[Bill],
) -> tuple[list[tuple[int, int, int]], list[dict]]:
    """(periods, statuses) of `bills`: (year, month, how many) of each period with bills,
    newest first (what bills.paging.PeriodPages counts a list by), and each status as
    bill_status_totals gives it. One grouped query (by period and status) for both, where the
    dashboard asked one for each (issue 14: each reads every bill of a filtered list, 60 ms
    for the 90,000 drafts of a Sales queue at 100,000 customers); two small queries of the
    tally when `bills` is every bill, on PostgreSQL."""
    if (scope := tally_scope(bills)) is not None:
        return tally_periods(**scope), _status_rows(tally_statuses(**scope))
    found = money_totals_of(bills, key=("year", "month", "status"), amounts=_AMOUNTS)
    per_period: dict[tuple[int, int], int] = {}
    per_status: dict[str, tuple[int, tuple[Decimal, Decimal]]] = {}
    zero = Decimal("0")
    with localcontext(prec=PRECISION):
        for (year, month, status), (n, (amount, paid)) in found.items():
            per_period[(year, month)] = per_period.get((year, month), 0) + n
            count, (total, total_paid) = per_status.get(status, (0, (zero, zero)))
            per_status[status] = (count + n, (total + amount, total_paid + paid))
    periods = [(y, m, n) for (y, m), n in sorted(per_period.items(), reverse=True) if n]
    return periods, _status_rows(per_status)


_AMOUNTS = ("overage_amount", "amount_paid")


def _status_rows(found: dict[str, tuple[int, tuple[Decimal, Decimal]]]) -> list[dict]:
    zero = Decimal("0")
    return [
        {
            "value": s.value,
            "label": s.label,
            "count": found.get(s.value, (0, None))[0],
            "amount": round_to_cents(found.get(s.value, (0, (zero, zero)))[1][0]),
            "paid": round_to_cents(found.get(s.value, (0, (zero, zero)))[1][1]),
        }
        for s in Status
    ]


def bill_total_owed(totals: list[dict]) -> Decimal:
    """What the bills of `totals` (bill_status_totals) come to that is still owed: draft,
    approved and sent (OWED_STATUSES) less what was paid on them (a partly paid sent bill counts
    its balance due); rejected (written off), paid and void bills are not added in."""
    with localcontext(prec=PRECISION):
        owed = sum(
            (t["amount"] - t["paid"] for t in totals if t["value"] in OWED_STATUSES),
            Decimal("0.00"),
        )
    return round_to_cents(owed)
