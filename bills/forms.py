"""Forms of the bill pages: they parse input and carry labels; bills.services decides."""

from __future__ import annotations

import calendar

from django import forms

from billing_site.core import periods
from billing_site.core.numbers import WholeNumberFormField

PER_PAGE_CHOICES = (25, 50, 100)


class BillFilterForm(forms.Form):
    """How the dashboard's filters look: bills.filters.BillPageFilterSet builds its fields on
    this form (they parse the values; the FilterSet applies them)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": "Name contains…", "autocomplete": "off"}
        )
        self.fields["period"].widget = forms.TextInput(
            attrs={"type": "month", "placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}"}
        )
        self.fields["usage_changed"].widget = forms.Select(
            choices=[("", "Any usage"), ("true", "Usage changed since computed or sent")]
        )

    def synced_widgets(self) -> list[str]:
        """The selects that status tabs and sortable headers change, as out-of-band swaps.

        A tab or a header link reloads only the table; these keep the filter form in step, so
        the next change in the form does not bring back the old status or order.
        """
        return [self[name].as_widget(attrs={"hx-swap-oob": "true"}) for name in ("status", "sort")]


class RowsForm(forms.Form):
    """How many bills a page of the dashboard shows; a number not offered is shown as an error
    on the field and the first choice is used."""

    per_page = forms.TypedChoiceField(
        label="Rows",
        required=False,
        coerce=int,
        empty_value=PER_PAGE_CHOICES[0],
        choices=[(n, str(n)) for n in PER_PAGE_CHOICES],
    )

    def rows(self) -> int:
        self.is_valid()
        return getattr(self, "cleaned_data", {}).get("per_page") or PER_PAGE_CHOICES[0]


class GenerateForm(forms.Form):
    # Digits only (core.numbers): Django's IntegerField would read "2026.000" as 2026.
    year = WholeNumberFormField(
        label="Year",
        min_value=periods.MIN_YEAR,
        max_value=periods.MAX_YEAR,
        range_message=periods.YEAR_RANGE,
    )
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
