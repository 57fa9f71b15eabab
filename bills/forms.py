"""Forms of the bill pages: they parse input and carry labels; bills.services decides."""

from __future__ import annotations

import calendar

from django import forms

from billing_site.core import periods
from billing_site.core.numbers import WholeNumberFormField
from bills.filter_chips import chip_label, chip_removed

PER_PAGE_CHOICES = (25, 50, 100)
PERIOD_HELP = "YYYY-MM, e.g. 2026-09 (Sep 2026 works too)."


class ValueCheckbox(forms.CheckboxInput):
    """A checkbox for a one-choice filter: ticked, it submits `value` (?awaiting=me); unticked,
    nothing. It shows ticked when the field's value is `value`."""

    def __init__(self, value: str, attrs=None):
        super().__init__(attrs, check_test=lambda current: current == value)
        self.on_value = value

    def format_value(self, value):
        return self.on_value

    def value_from_datadict(self, data, files, name):
        return data.get(name, "")


class BillFilterForm(forms.Form):
    """How the dashboard's filters look: bills.filters.BillPageFilterSet builds its fields on
    this form (they parse the values; the FilterSet applies them). The filters in CHIP_FIELDS
    have no field of their own on the page: they ride along as hidden inputs, each shown as a
    chip that removes it (`chips()`)."""

    CHIP_FIELDS = ("customer_id", "year", "month")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.CHIP_FIELDS:
            if name in self.fields:
                # Its own id: the generate form on the same page has "id_year" and "id_month".
                self.fields[name].widget = forms.HiddenInput(attrs={"id": f"filter-{name}"})
        self.fields["customer"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": "Name contains…", "autocomplete": "off"}
        )
        # No `pattern`: where a browser shows a text box for type=month (Firefox, Safari), a
        # pattern would silently block every request of this form; the field reads what
        # people type (core.filters.PeriodField) and says so.
        self.fields["period"].widget = forms.TextInput(
            attrs={"type": "month", "placeholder": "YYYY-MM"}
        )
        self.fields["period"].help_text = PERIOD_HELP
        self.fields["awaiting"].widget = ValueCheckbox("me")
        self.fields["usage_changed"].widget = forms.Select(
            choices=[("", "Any usage"), ("true", "Usage changed since computed or sent")]
        )
        # Payments (bills.aging): the aging tiles set these too, so they are synced like status.
        self.fields["outstanding"].widget = forms.Select(
            choices=[("", "Any balance"), ("true", "Balance due"), ("false", "Nothing due")]
        )
        self.fields["overdue"].widget = forms.Select(
            choices=[("", "Due or not"), ("true", "Overdue"), ("false", "Not overdue")]
        )

    def synced_widgets(self) -> list[str]:
        """The selects that status tabs and sortable headers change, as out-of-band swaps.

        A tab or a header link reloads only the table; these keep the filter form in step, so
        the next change in the form does not bring back the old status or order.
        """
        synced = ("status", "sort", "outstanding", "overdue", "aging")
        return [self[name].as_widget(attrs={"hx-swap-oob": "true"}) for name in synced]

    def chips(self) -> list[dict[str, str]]:
        """The CHIP_FIELDS filters given, each {"name", "label", "remove": the query string
        without it}; labels as "Customer: Acme Corp", "Year 2025", "Month: March". A value that
        does not parse is a chip too, saying it is ignored and why. Reads the customer's name
        (one query, only with customer_id)."""
        found = []
        for name in self.CHIP_FIELDS:
            if name not in self.fields or self.data.get(name, "") == "":
                continue
            errors = self.errors.get(name)
            value = None if errors else self.cleaned_data.get(name)
            label = chip_label(name, value, raw=self.data.get(name), errors=errors)
            found.append({"name": name, "label": label, "remove": chip_removed(self.data, name)})
        return found


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
