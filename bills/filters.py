"""Which bills a list shows, and in which order: one FilterSet for the dashboard, GET /api/bills
and GET /api/bills.csv. The queryset comes from bills.selectors.bill_list (joins, current usage,
newest period first); the rules that narrow and reorder it are here."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from billing_site.core.filters import (
    ChoiceFilter,
    ContainsFilter,
    FilterSet,
    IdFilter,
    MonthFilter,
    PeriodFilter,
    SortFilter,
    YearFilter,
    YesNoFilter,
)
from bills.aging import AGING_CHOICES, aging_q, outstanding_q, overdue_q
from bills.forms import BillFilterForm
from bills.models import AMOUNT_ORDER, UNSENT_STATUSES, Bill, Status
from bills.queue import AWAITING_ME, awaiting_q

# The dashboard's orders besides the default (bill_list's: newest period, then customer name).
# Each ends on a unique column so a page never shows a row twice.
BILL_ORDERINGS = {
    "amount": ("Largest amount", AMOUNT_ORDER),
    "customer": ("Customer A–Z", ("customer__name", "-year", "-month", "-id")),
    "oldest": ("Oldest bill", ("created_at", "id")),
}


class BillFilterSet(FilterSet):
    status = ChoiceFilter(label="Status", choices=Status.choices, empty_label="All statuses")
    customer_id = IdFilter(description="Bills of this customer (its id).")
    customer = ContainsFilter(
        field_name="customer__name",
        label="Customer",
        description="Part of the customer's name, any case.",
    )
    year = YearFilter()
    month = MonthFilter()
    period = PeriodFilter(label="Period", description="One month, as YYYY-MM.")
    usage_changed = YesNoFilter(
        label="Usage changed",
        method="filter_usage_changed",
        description="true: bills whose month's usage differs from what they were computed "
        "from: unsent ones to recompute, and sent ones flagged until voided and re-billed or "
        "dismissed (Bill.usage_changed, usage_changed_after_sending).",
    )
    awaiting = ChoiceFilter(
        label="Waiting for me",
        choices=[(AWAITING_ME, "Waiting for me")],
        method="filter_awaiting",
        error_messages={
            "invalid_choice": "Use awaiting=me (the drafts that wait for your approval), or "
            "leave it out for every bill."
        },
        description="me: the drafts that still need the caller's approval (bills.queue): "
        "for Sales those without a Sales approval, for Customer Success those of the "
        "customers they manage, or with no CSM, without the CSM approval; none for Finance. "
        "Drafts whose usage or terms changed stay in it, flagged.",
    )
    outstanding = YesNoFilter(
        label="Outstanding",
        method="filter_outstanding",
        description="true: bills with a balance due: sent and not yet paid in full (a bill is "
        "paid once its payments cover its amount); false: every other bill.",
    )
    overdue = YesNoFilter(
        label="Overdue",
        method="filter_overdue",
        description="true: outstanding bills whose invoice's due date is before today (in the "
        "server's TIME_ZONE); false: every other bill.",
    )
    aging = ChoiceFilter(
        label="Days past due",
        choices=AGING_CHOICES,
        method="filter_aging",
        empty_label="Any age",
        description="Outstanding bills by days past their invoice's due date: current (not yet "
        "due), 1-30, 31-60, 61-90, 90+ (over 90 days).",
    )
    sort = SortFilter(
        label="Sort by",
        orderings=BILL_ORDERINGS,
        empty_label="Newest period",
        description="amount: largest first; customer: by name; oldest: oldest bill first. "
        "Left out: newest period first, then by customer name.",
    )

    class Meta:
        model = Bill
        fields = []  # the declared filters only

    def filter_awaiting(self, qs: QuerySet[Bill], name: str, value: str):
        # One SQL condition on the caller (bills.queue.awaiting_q); no request, no queue.
        if value != AWAITING_ME:
            return qs
        return qs.filter(awaiting_q(getattr(self.request, "user", None)))

    def filter_outstanding(self, qs: QuerySet[Bill], name: str, value: bool | None):
        # bills.aging holds the rules; today is read when the filter runs (core.periods.today).
        if value is None:
            return qs
        return qs.filter(outstanding_q()) if value else qs.exclude(outstanding_q())

    def filter_overdue(self, qs: QuerySet[Bill], name: str, value: bool | None):
        if value is None:
            return qs
        return qs.filter(overdue_q()) if value else qs.exclude(overdue_q())

    def filter_aging(self, qs: QuerySet[Bill], name: str, value: str):
        return qs.filter(aging_q(value)) if value else qs

    def filter_usage_changed(self, qs: QuerySet[Bill], name: str, value: bool | None):
        # The same rule as Bill.usage_changed / usage_changed_after_sending, in SQL: the list's
        # `current_usage` (no usage row counts as 0) against what the bill was computed from.
        if value is None:
            return qs
        qs = qs.alias(usage_now=Coalesce(F("current_usage"), Value(0)))
        differs = ~Q(api_usage=F("usage_now"))
        flagged = Q(status=Status.SENT) & (
            Q(dismissed_usage__isnull=True) | ~Q(dismissed_usage=F("usage_now"))
        )
        changed = differs & (Q(status__in=UNSENT_STATUSES) | flagged)
        return qs.filter(changed) if value else qs.exclude(changed)


class BillPageFilterSet(BillFilterSet):
    """The dashboard's filters: exactly BillFilterSet's (the page, GET /api/bills and the CSV
    take the same parameters), on the page's form. The form shows the common ones as fields;
    the rest (customer_id, year, month: BillFilterForm.CHIP_FIELDS) it carries as hidden
    inputs and shows as removable chips, so the page never filters by something unseen."""

    class Meta(BillFilterSet.Meta):
        form = BillFilterForm
