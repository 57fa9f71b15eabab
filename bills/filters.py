"""Which bills a list shows, and in which order: one FilterSet for the dashboard, GET /api/bills
and GET /api/bills.csv. The queryset comes from bills.selectors.bill_list (joins, current usage,
newest period first); the rules that narrow and reorder it are here."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from billing_site.core.fields import money_order
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
from bills.forms import BillFilterForm
from bills.models import UNSENT_STATUSES, Bill, Status

# The dashboard's orders besides the default (bill_list's: newest period, then customer name).
# Each ends on a unique column so a page never shows a row twice.
BILL_ORDERINGS = {
    "amount": (
        "Largest amount",
        (*money_order("overage_amount", descending=True), "-year", "-month", "-id"),
    ),
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
    """The dashboard's filters: those its form shows. A hand-written ?year= or ?customer_id= is
    ignored there, as it always was, rather than filtering rows by a field nobody can see."""

    customer_id = None
    year = None
    month = None

    class Meta(BillFilterSet.Meta):
        form = BillFilterForm
