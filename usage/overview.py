"""The usage overview (/usage, SPEC "Pages"), and the figures GET /api/usage/summary answers.

A month's figures come from usage.analysis; what of its overage is already billed comes from
bills.selectors. This module composes the two (a reader may read an upper app's selectors), so
the page and the API show the same numbers. One htmx fragment: the month picker swaps the body.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, localcontext

from django import forms
from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing_site.core import periods
from billing_site.core.money import PRECISION, round_to_cents
from billing_site.core.numbers import WholeNumberFormField
from bills.selectors import bill_list, bill_status_totals
from usage import analysis, anomalies
from usage.levels import AT, NEAR, OVER, RunRate, run_rate


class MonthForm(forms.Form):
    """?year=&month= for the page and the API: digits only (core.numbers), both or neither
    (neither: the current month), and not a month that has not started."""

    month = WholeNumberFormField(
        label="Month",
        required=False,
        min_value=1,
        max_value=12,
        range_message=periods.MONTH_RANGE,
        strip=False,
        blank_is_error=True,
        widget=forms.Select(choices=[(m, calendar.month_name[m]) for m in range(1, 13)]),
    )
    year = WholeNumberFormField(
        label="Year",
        required=False,
        min_value=periods.MIN_YEAR,
        max_value=periods.MAX_YEAR,
        range_message=periods.YEAR_RANGE,
        strip=False,
        blank_is_error=True,
    )

    def __init__(self, data=None, *, today: date):
        self.today = today
        super().__init__(data, initial={"year": today.year, "month": today.month})
        self.fields["year"].widget.attrs.update(
            min=periods.MIN_YEAR, max=today.year, inputmode="numeric"
        )

    def clean(self):
        data = super().clean()
        year, month = data.get("year"), data.get("month")
        if self.errors:
            return data
        if (year is None) != (month is None):
            missing = "year" if year is None else "month"
            self.add_error(missing, f"Give the {missing} too: a month is a year and a month.")
        elif year is not None and (year, month) > (self.today.year, self.today.month):
            self.add_error(
                "month",
                f"{periods.label(year, month)} has not started yet: pick "
                f"{periods.label(self.today.year, self.today.month)} or an earlier month.",
            )
        return data

    def period(self) -> tuple[int, int]:
        """The month asked for; the current month when none (or a bad one) was given."""
        if self.is_valid() and self.cleaned_data.get("year") is not None:
            return self.cleaned_data["year"], self.cleaned_data["month"]
        return self.today.year, self.today.month


@dataclass(frozen=True)
class Billed:
    """The month's live bills (every one but the void: a rejected bill was billed, then written
    off) by status, from bills.selectors.bill_status_totals, and what they add up to."""

    statuses: list[dict]  # {"value", "label", "count", "amount"} in the lifecycle's order
    count: int
    amount: Decimal

    @property
    def shown(self) -> list[dict]:
        return [s for s in self.statuses if s["count"]]


def _billed(year: int, month: int) -> Billed:
    statuses = bill_status_totals(bills=bill_list().filter(year=year, month=month).live())
    with localcontext(prec=PRECISION):
        amount = sum((s["amount"] for s in statuses), Decimal("0.00"))
    return Billed(statuses, sum(s["count"] for s in statuses), round_to_cents(amount))


@dataclass(frozen=True)
class Projection:
    rate: RunRate
    total: int  # the month's calls by month end at the run rate
    on_track: list[analysis.CustomerMonth]
    on_track_count: int
    previous_total: int  # the month before, whole

    @property
    def change_percent(self) -> Decimal | None:
        """The projection against the month before, in percent to one place; None when the
        month before had no calls."""
        return analysis.percent_change(self.total, self.previous_total)


@dataclass(frozen=True)
class Overview:
    year: int
    month: int
    today: date
    currency: str
    totals: analysis.MonthTotals
    over: list[analysis.CustomerMonth]
    near: list[analysis.CustomerMonth]
    overage_customers: int
    overage: Decimal  # at each customer's current terms
    billed: Billed
    top: list[analysis.CustomerMonth]
    increases: list[analysis.CustomerMonth]
    without_usage: list = field(default_factory=list)  # customers (id, name)
    without_usage_count: int = 0
    projection: Projection | None = None
    suspicious: analysis.MonthAnomalies | None = None

    @property
    def label(self) -> str:
        return periods.label(self.year, self.month)

    @property
    def previous(self) -> tuple[int, int]:
        return periods.previous_month(self.year, self.month)

    @property
    def previous_label(self) -> str:
        return periods.label(*self.previous)

    @property
    def next(self) -> tuple[int, int] | None:
        after = periods.next_month(self.year, self.month)
        return None if after > (self.today.year, self.today.month) else after

    @property
    def next_label(self) -> str:
        return periods.label(*self.next) if self.next else ""

    @property
    def in_progress(self) -> bool:
        return (self.year, self.month) == (self.today.year, self.today.month)

    @property
    def not_billed(self) -> Decimal:
        """The overage at current terms that no live bill covers yet (negative when the bills
        add up to more: usage or terms changed after billing)."""
        with localcontext(prec=PRECISION):
            return round_to_cents(self.overage - self.billed.amount)


def overview_of(*, year: int, month: int, today: date | None = None) -> Overview:
    """Every figure of the overview of (year, month), in a fixed number of queries whatever
    the number of customers. `today` (default core.periods.today()) decides the month in
    progress and its run rate."""
    today = today or periods.today()
    rate = run_rate(year=year, month=month, today=today)
    projection = None
    totals = analysis.usage_month_totals(year=year, month=month)
    if rate:
        count, on_track = analysis.usage_on_track_to_pass(rate=rate)
        projection = Projection(
            rate, rate.project(totals.total), on_track, count, totals.previous_total
        )
    overage_customers, overage = analysis.usage_month_overage(year=year, month=month)
    without_count, without = analysis.customers_without_usage(year=year, month=month)
    return Overview(
        year=year,
        month=month,
        today=today,
        currency=settings.CURRENCY,
        totals=totals,
        over=analysis.usage_limit_list(year=year, month=month, levels=(OVER,)),
        near=analysis.usage_limit_list(year=year, month=month, levels=(NEAR, AT)),
        overage_customers=overage_customers,
        overage=overage,
        billed=_billed(year, month),
        top=analysis.usage_top(year=year, month=month),
        increases=analysis.usage_increases(year=year, month=month),
        without_usage=without,
        without_usage_count=without_count,
        projection=projection,
        suspicious=analysis.usage_anomalies_of_month(year=year, month=month, today=today),
    )


@require_GET
def usage_overview(request):
    """/usage?year=&month=: the overview of a month (default: the current one). A bad month is
    shown on its field and the current month is shown instead; htmx gets the body alone."""
    today = periods.today()
    form = MonthForm(request.GET or None, today=today)
    year, month = form.period()
    context = {
        "form": form,
        "o": overview_of(year=year, month=month, today=today),
        "thresholds": anomalies.thresholds(),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "usage/overview.html#overview_body", context)
    return render(request, "usage/overview.html", context)
