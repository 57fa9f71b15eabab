"""Forms of the Record usage page. They parse input and carry labels; usage.services decides."""

from __future__ import annotations

import calendar

from django import forms

from billing_site.core import periods
from customers.forms import CustomerField
from usage.csv_import import MAX_BYTES, MAX_ROWS, too_big_message
from usage.services import TEXT, UsageRow, UsageRowError, usage_row_parse


class UsageEntryForm(forms.Form):
    """One customer-month, typed by a person. The form carries labels and widgets; the values go
    through the one row schema (usage.services.usage_row_parse, as text), so a count is digits
    only: the "250.000" a person may type for 250 thousand is refused with what was typed, where
    an IntegerField would take it as 250. The future and unknown customers are the service's
    call (`add_row_errors`)."""

    customer = CustomerField(
        label="Customer",
        help_text="Type part of the name and choose, or the customer's number.",
    )
    year = forms.CharField(label="Year", widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    month = forms.ChoiceField(
        label="Month", choices=[(m, calendar.month_name[m]) for m in range(1, 13)]
    )
    api_usage = forms.CharField(
        label="API usage",
        help_text="The month's total API calls in digits, e.g. 1250000; recording a month "
        "again replaces its total.",
        # Text, not type=number: browsers round numbers past 2^53, and usage is 64-bit.
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    # The total the person saw and agreed to replace ("Currently 12,000; you are setting
    # 15,000"): the view records over a recorded total only when it is still this one.
    confirm_old = forms.CharField(required=False, widget=forms.HiddenInput)

    row: UsageRow | None = None

    def __init__(self, *args, **kwargs):
        year, month = periods.last_ended_month()
        kwargs.setdefault("initial", {"year": year, "month": month})
        super().__init__(*args, prefix="entry", **kwargs)

    def clean(self):
        data = super().clean()
        customer = data.get("customer")
        raw = {
            "customer_id": customer.pk if customer else None,
            "year": data.get("year"),
            "month": data.get("month"),
            "api_usage": data.get("api_usage"),
        }
        self.row, errors = usage_row_parse(raw=raw, source=TEXT)
        # A field its own widget already refused (blank, not a choice) keeps that one message.
        self.add_row_errors([e for e in errors if _FIELD.get(e.field, e.field) not in self.errors])
        return data

    def add_row_errors(self, errors: list[UsageRowError]) -> None:
        """The schema's or the service's refusal of this row, on the fields."""
        for error in errors:
            name = _FIELD.get(error.field, error.field)
            self.add_error(name if name in self.fields else None, error.message)


_FIELD = {"customer_id": "customer"}


class UsageUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8, up to {MAX_ROWS:,} rows and {MAX_BYTES // 1024 // 1024} MB. You see "
        "what changes before anything is recorded; then all or nothing.",
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="upload", **kwargs)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Checked before reading: a huge file is refused without loading it into memory.
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(too_big_message(upload.size))
        return upload
