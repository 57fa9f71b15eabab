"""Which bills a list shows, and in which order: one FilterSet for the dashboard, GET /api/bills
and GET /api/bills.csv. The queryset comes from bills.selectors.bill_list (joins, current usage,
newest period first); the rules that narrow and reorder it are here."""

from __future__ import annotations

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
)
from bills.forms import BillFilterForm
from bills.models import Bill, Status

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


class BillPageFilterSet(BillFilterSet):
    """The dashboard's filters: those its form shows. A hand-written ?year= or ?customer_id= is
    ignored there, as it always was, rather than filtering rows by a field nobody can see."""

    customer_id = None
    year = None
    month = None

    class Meta(BillFilterSet.Meta):
        form = BillFilterForm
