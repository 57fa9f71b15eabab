"""Unbilled overage: customer-months that used more than their limit and have no live bill
(SPEC "Computing a bill"; a finance team's "what did we forget to bill?").

A customer-month is listed when its month has ended (the month in progress cannot be billed
yet), its recorded usage is above the limit of the terms in force for that month
(customers.selectors.customer_terms_of_month's rule, here in SQL), the overage would not round
to 0.00 (bills.services.pricing: generation skips those too), and no bill counts for it
(bills.models.live_q). Each says why it is unbilled:

- "not generated yet": under contract, never billed; generating the month bills it.
- "not under contract": the contract does not cover the month, so it cannot be billed.
- "voided and not re-billed": its bills are all void and nothing replaced the last one.

Everything is decided in one SQL query (plus one to count a page), whatever the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django import forms
from django.conf import settings
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    CharField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, ExtractMonth, ExtractYear, Round
from django.db.models.lookups import (
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
)

from billing_site.core import periods
from billing_site.core.filters import (
    ChoiceFilter,
    FilterSet,
    IdFilter,
    MonthFilter,
    PeriodFilter,
    YearFilter,
)
from bills.models import Bill, Status, live_q
from bills.services.pricing import overage_amount_for
from usage.models import Usage

NOT_GENERATED = "not_generated"
NOT_UNDER_CONTRACT = "not_under_contract"
VOIDED = "voided"
REASONS = {
    NOT_GENERATED: "not generated yet",
    NOT_UNDER_CONTRACT: "not under contract",
    VOIDED: "voided and not re-billed",
}
# Half a cent, in millionths of a currency unit: calls over x unit cost (6 places) rounds to
# 0.00 below it. Compared as whole numbers so SQLite (text money) decides as exactly as
# PostgreSQL.
_HALF_CENT_MICROS = 5000
_HALF_CENT = Decimal("0.005")


class _PostgresForm(Func):
    """A condition written twice: the first source expression on every database, the second
    (the same condition, cheaper there) on PostgreSQL."""

    output_field = BooleanField()
    conditional = True

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])

    def as_postgresql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[1])


def _month_key(year, month):
    return year * 12 + month


def _with_terms_in_force(usages: QuerySet[Usage]) -> QuerySet[Usage]:
    # The version in force for each usage row's month (customer_terms_of_month's rule: the
    # latest from that month or before; before the first version, the first), joined rather
    # than asked per row, so the plan stays hash joins (parallel on PostgreSQL) whatever the
    # rows: `terms` is each of the customer's versions and `later` a version that beats it for
    # the month (a later one still in force by then, or, when `terms` starts after the month,
    # an earlier one); the row kept is the version nothing beats, exactly one per usage row.
    # A customer without versions joins nothing (NULL terms): its own columns apply. The test
    # is on `later`'s customer_id, a column of its join condition, so PostgreSQL plans an anti
    # join (on its id, a left join it cannot size, which misled the plan: merge joins, disk).
    other = "customer__terms_versions__"
    other_key = _month_key(F(f"{other}effective_year"), F(f"{other}effective_month"))
    beats = Q(
        GreaterThan(other_key, F("terms_key")), LessThanOrEqual(other_key, F("month_key"))
    ) | Q(GreaterThan(F("terms_key"), F("month_key")), LessThan(other_key, F("terms_key")))
    return (
        usages.alias(terms=FilteredRelation("customer__terms_versions"))
        .alias(terms_key=_month_key(F("terms__effective_year"), F("terms__effective_month")))
        .alias(later=FilteredRelation("customer__terms_versions", condition=beats))
        .filter(later__customer_id__isnull=True)
    )


def unbilled_overage_list(*, today=None) -> QuerySet[Usage]:
    """Every unbilled customer-month with overage, newest month first, then by customer name.

    Usage rows (customer joined), annotated: `limit` and `unit_cost` (the month's terms),
    `overage_units` (calls over the limit), `reason` (NOT_GENERATED, NOT_UNDER_CONTRACT or
    VOIDED; REASONS has the words) and `void_bill_id` (the last void bill nothing replaced, for
    a re-bill; None otherwise). Excludes the month in progress (`today`'s, in TIME_ZONE; default
    now) and later, months with a live bill, and overage that rounds to 0.00. `estimated` (or
    unbilled_rows) prices a page of them. Which rows a list shows is UnbilledFilterSet's.
    """
    today = today or periods.today()
    customer_start = _month_key(
        ExtractYear("customer__start_date"), ExtractMonth("customer__start_date")
    )
    customer_end = _month_key(ExtractYear("customer__end_date"), ExtractMonth("customer__end_date"))
    bills = Bill.objects.filter(
        customer_id=OuterRef("customer_id"), year=OuterRef("year"), month=OuterRef("month")
    )
    last_void = bills.filter(status=Status.VOID, replaced_by__isnull=True).order_by("-id")
    qs = (
        Usage.objects.select_related("customer")
        .alias(month_key=_month_key(F("year"), F("month")))
        .filter(month_key__lt=_month_key(today.year, today.month))
        .filter(~Exists(bills.filter(live_q())))
    )
    qs = (
        _with_terms_in_force(qs)
        .annotate(
            limit=Coalesce("terms__monthly_api_limit", "customer__monthly_api_limit"),
            unit_cost=Coalesce("terms__overage_unit_cost", "customer__overage_unit_cost"),
        )
        .annotate(overage_units=F("api_usage") - F("limit"))
        # Implied by the next filter (unit costs are never negative), asked first: a whole
        # number comparison drops the rows under the limit before any decimal arithmetic.
        .filter(overage_units__gt=0)
        .alias(
            cost_micros=Cast(Round(F("unit_cost") * Value(1_000_000)), BigIntegerField()),
            # Exact integers on SQLite (text money), which turns an overflowing product into
            # a (still huge) REAL; NUMERIC, never overflowing, elsewhere.
            micros=Cast("overage_units", DecimalField(max_digits=40, decimal_places=0))
            * F("cost_micros"),
        )
        .filter(
            _PostgresForm(
                GreaterThanOrEqual(F("micros"), _HALF_CENT_MICROS),
                # The same test, exact in NUMERIC (unit costs have 6 places) with one product
                # and no rounding or casts per row: a third off the count at 100,000 x 24.
                GreaterThanOrEqual(
                    ExpressionWrapper(F("overage_units") * F("unit_cost"), DecimalField()),
                    Value(_HALF_CENT),
                ),
            )
        )
        .alias(start_key=customer_start, end_key=customer_end)
        .annotate(
            reason=Case(
                When(
                    Q(start_key__gt=F("month_key"))
                    | Q(customer__end_date__isnull=False, end_key__lt=F("month_key")),
                    then=Value(NOT_UNDER_CONTRACT),
                ),
                When(Exists(bills), then=Value(VOIDED)),
                default=Value(NOT_GENERATED),
                output_field=CharField(),
            ),
            void_bill_id=Subquery(last_void.values("id")[:1]),
        )
        .order_by("-year", "-month", "customer__name", "customer_id")
    )
    return qs


@dataclass(frozen=True)
class UnbilledRow:
    """One unbilled customer-month as a page or the API shows it. Money is Decimal: the unit
    cost (6 places) and the estimated amount, what bill_create would charge now (calls over the
    limit x unit cost, half-up to cents: bills.services.pricing), in `currency`."""

    customer_id: int
    customer_name: str
    year: int
    month: int
    api_usage: int
    monthly_api_limit: int
    overage_units: int
    overage_unit_cost: Decimal
    estimated_amount: Decimal
    currency: str
    reason: str
    void_bill_id: int | None
    contract_start: date
    contract_end: date | None

    @property
    def reason_label(self) -> str:
        return REASONS[self.reason]

    @property
    def period(self) -> str:
        return f"{self.year}-{self.month:02d}"


def unbilled_rows(usages) -> list[UnbilledRow]:
    """Rows of unbilled_overage_list (e.g. a page of them) as UnbilledRows, priced. No query
    beyond reading `usages` itself."""
    return [
        UnbilledRow(
            customer_id=u.customer_id,
            customer_name=u.customer.name,
            year=u.year,
            month=u.month,
            api_usage=u.api_usage,
            monthly_api_limit=int(u.limit),
            overage_units=int(u.overage_units),
            overage_unit_cost=u.unit_cost,
            estimated_amount=overage_amount_for(int(u.overage_units), u.unit_cost),
            currency=settings.CURRENCY,
            reason=u.reason,
            void_bill_id=u.void_bill_id,
            contract_start=u.customer.start_date,
            contract_end=u.customer.end_date,
        )
        for u in usages
    ]


class UnbilledFilterForm(forms.Form):
    """How the /bills/unbilled page's filters look (UnbilledFilterSet builds the fields)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].widget = forms.TextInput(
            attrs={"type": "month", "placeholder": "YYYY-MM"}
        )
        for name in ("year", "month", "customer_id"):
            self.fields[name].widget = forms.HiddenInput()


class UnbilledFilterSet(FilterSet):
    """Which unbilled customer-months a list shows: the /bills/unbilled page and GET
    /api/bills/unbilled. The queryset comes from unbilled_overage_list."""

    period = PeriodFilter(label="Period", description="One month, as YYYY-MM.")
    year = YearFilter()
    month = MonthFilter(description="1 to 12.")
    reason = ChoiceFilter(
        label="Reason",
        choices=list(REASONS.items()),
        empty_label="Any reason",
        description="Why the month is unbilled.",
    )
    customer_id = IdFilter(description="Of this customer (its id).")

    class Meta:
        model = Usage
        fields: list[str] = []  # the declared filters only
        form = UnbilledFilterForm
