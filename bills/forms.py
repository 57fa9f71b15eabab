"""Forms of the bill pages: they parse input and carry labels; bills.services decides."""

from __future__ import annotations

import calendar
import re

from django import forms

from billing_site.core import periods
from bills.models import Status

PER_PAGE_CHOICES = (25, 50, 100)
# How the dashboard may order its rows; "" (the default) keeps the URL short.
SORT_CHOICES = [
    ("", "Newest period"),
    ("amount", "Largest amount"),
    ("customer", "Customer A–Z"),
    ("oldest", "Oldest bill"),
]
_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


class BillFilterForm(forms.Form):
    """The dashboard's filters. A value that does not parse is ignored, never an error page."""

    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "All statuses"), *Status.choices]
    )
    customer = forms.CharField(label="Customer", required=False, max_length=200)
    period = forms.CharField(label="Period", required=False, max_length=7)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORT_CHOICES)
    per_page = forms.TypedChoiceField(
        label="Rows",
        required=False,
        coerce=int,
        empty_value=PER_PAGE_CHOICES[0],
        choices=[(n, str(n)) for n in PER_PAGE_CHOICES],
    )
    page = forms.CharField(required=False, max_length=12)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": "Name contains…", "autocomplete": "off"}
        )
        self.fields["period"].widget = forms.TextInput(
            attrs={"type": "month", "placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}"}
        )

    def clean_customer(self) -> str:
        return self.cleaned_data["customer"].replace("\x00", "").strip()

    def clean_period(self) -> tuple[int, int] | None:
        value = self.cleaned_data["period"].strip()
        match = _PERIOD.match(value)
        if not value:
            return None
        if not match or not 1 <= int(match[2]) <= 12:
            raise forms.ValidationError("Use YYYY-MM, e.g. 2025-03.")
        return int(match[1]), int(match[2])

    def filters(self) -> dict:
        """The valid filters; a bad one is dropped (and shown as an error on its field)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        period = data.get("period")
        return {
            "status": data.get("status") or None,
            "customer": data.get("customer") or None,
            "year": period[0] if period else None,
            "month": period[1] if period else None,
            "sort": data.get("sort") or "",
            "per_page": data.get("per_page") or PER_PAGE_CHOICES[0],
            "page": data.get("page") or 1,
        }

    def synced_widgets(self) -> list[str]:
        """The selects that status tabs and sortable headers change, as out-of-band swaps.

        A tab or a header link reloads only the table; these keep the filter form in step, so
        the next change in the form does not bring back the old status or order.
        """
        return [self[name].as_widget(attrs={"hx-swap-oob": "true"}) for name in ("status", "sort")]


class GenerateForm(forms.Form):
    year = forms.IntegerField(label="Year")
    month = forms.TypedChoiceField(
        label="Month",
        coerce=int,
        choices=[(m, calendar.month_name[m]) for m in range(1, 13)],
    )

    def __init__(self, *args, **kwargs):
        year, month = periods.last_ended_month()
        kwargs.setdefault("initial", {"year": year, "month": month})
        super().__init__(*args, **kwargs)
        self.fields["year"].widget.attrs.update(
            min=periods.MIN_YEAR, max=periods.MAX_YEAR, inputmode="numeric"
        )
