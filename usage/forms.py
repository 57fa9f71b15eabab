"""Forms of the Record usage page. They parse input and carry labels; usage.services decides."""

from __future__ import annotations

import calendar

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

from billing_site.core import periods
from customers.models import Customer
from usage.csv_import import MAX_BYTES, MAX_ROWS


class CustomerSelect(forms.Select):
    """A <select> rendered in Python: Django renders each option through a template, which
    takes seconds for the 10,000 customers a desk can have; this takes milliseconds."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, " selected" if str(key) == selected else "", label)
                for key, label in self.choices
            ),
        )
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(self.build_attrs(self.attrs, attrs)),
            options,
        )


class UsageEntryForm(forms.Form):
    """One customer-month. Ranges, the future and unknown customers are the service's call."""

    customer = forms.ModelChoiceField(
        label="Customer",
        queryset=Customer.objects.only("id", "name").order_by("name", "id"),
        empty_label="Choose…",
        widget=CustomerSelect,
    )
    year = forms.IntegerField(label="Year")
    month = forms.TypedChoiceField(
        label="Month", coerce=int, choices=[(m, calendar.month_name[m]) for m in range(1, 13)]
    )
    api_usage = forms.IntegerField(
        label="API usage",
        help_text="The month's total API calls; recording a month again replaces its total.",
        # Text, not type=number: browsers round numbers past 2^53, and usage is 64-bit.
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        year, month = periods.last_ended_month()
        kwargs.setdefault("initial", {"year": year, "month": month})
        super().__init__(*args, prefix="entry", **kwargs)
        self.fields["customer"].label_from_instance = lambda customer: customer.name
        self.fields["year"].widget.attrs.update(inputmode="numeric")

    def item(self) -> dict[str, int]:
        data = self.cleaned_data
        return {
            "customer_id": data["customer"].pk,
            "year": data["year"],
            "month": data["month"],
            "api_usage": data["api_usage"],
        }


class UsageUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8, up to {MAX_ROWS:,} rows and 2 MB. All or nothing: one bad row and "
        "nothing is recorded.",
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="upload", **kwargs)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Checked before reading: a huge file is refused without loading it into memory.
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; upload at most 2 MB "
                f"({MAX_ROWS:,} rows) at a time."
            )
        return upload
