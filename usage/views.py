"""The Record usage page (Finance): one customer-month by hand, or a CSV file of them.

Both forms call usage.services.usage_record_many, which decides every rule; the CSV file is
read by usage.csv_import, the same reader as `manage.py import_usage`. A recording answers the
page itself (not a redirect) with a summary: posting it again sets the same totals, so a reload
is harmless.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import Perm, can
from billing_site.core import periods
from billing_site.core.errors import DomainError
from billing_site.core.http import add_domain_errors, forbidden
from bills.models import Bill
from bills.selectors import bill_list_stale
from usage.csv_import import (
    HEADER,
    CsvFileError,
    RowError,
    line_errors,
    parse_usage_csv,
    recorded_summary,
    template_rows,
)
from usage.forms import UsageEntryForm, UsageUploadForm
from usage.services import UsageResult, usage_record_many

SHOWN_ROW_ERRORS = 500
SHOWN_STALE_BILLS = 50


@dataclass
class Outcome:
    """What one recording did, for the summary: counts, months per period, stale bills."""

    result: UsageResult | None = None
    months: list[tuple[int, int, int, int]] = field(default_factory=list)
    row_errors: list[RowError] = field(default_factory=list)
    stale: list[Bill] = field(default_factory=list)


@require_http_methods(["GET", "POST"])
def record(request):
    if not can(request.user, Perm.RECORD_USAGE):
        message = f"Your role ({request.user.role}) may not record usage; Finance does."
        return forbidden(request, message)
    entry_form, upload_form, outcome = UsageEntryForm(), UsageUploadForm(), Outcome()
    if request.POST.get("form") == "entry":
        entry_form = UsageEntryForm(request.POST)
        outcome = record_entry(request, entry_form)
        if outcome.result:
            entry_form = UsageEntryForm(initial=_same_period(entry_form))
    elif request.POST.get("form") == "upload":
        upload_form = UsageUploadForm(request.POST, request.FILES)
        outcome = record_upload(request, upload_form)
    elif request.method == "POST":
        messages.error(request, "Choose a form to send: one month, or a CSV file.")
    if outcome.result:
        messages.success(request, recorded_summary(outcome.result))
    return render(request, "usage/record.html", page_context(entry_form, upload_form, outcome))


def record_entry(request, form: UsageEntryForm) -> Outcome:
    if not form.is_valid():
        return Outcome()
    item = form.item()
    try:
        result = usage_record_many(items=[item], user=request.user)
    except DomainError as error:
        # The one item is "0"; its fields are the form's, except customer_id.
        fields = error.errors.get("0", {}) if error.errors else {}
        renamed = {("customer" if k == "customer_id" else k): v for k, v in fields.items()}
        add_domain_errors(form, DomainError(error.message, errors=renamed or None))
        return Outcome()
    months = [(item["customer_id"], item["year"], item["month"], item["api_usage"])]
    return Outcome(result=result, months=months, stale=bill_list_stale(months))


def record_upload(request, form: UsageUploadForm) -> Outcome:
    if not form.is_valid():
        return Outcome()
    try:
        parsed = parse_usage_csv(form.cleaned_data["file"].read())
        result = usage_record_many(items=parsed.items, user=request.user)
    except CsvFileError as error:
        form.add_error("file", error.message)
        return Outcome()
    except DomainError as error:
        try:
            return Outcome(row_errors=line_errors(parsed, error))
        except DomainError:
            form.add_error("file", error.message)
            return Outcome()
    months = parsed.recorded()
    return Outcome(result=result, months=months, stale=bill_list_stale(months))


def page_context(entry_form, upload_form, outcome: Outcome) -> dict:
    per_period: dict[tuple[int, int], int] = {}
    for _, year, month, _ in outcome.months:
        per_period[(year, month)] = per_period.get((year, month), 0) + 1
    return {
        "entry_form": entry_form,
        "upload_form": upload_form,
        "outcome": outcome,
        "summary": recorded_summary(outcome.result) if outcome.result else "",
        "periods": [
            (periods.label(y, m), f"{y}-{m:02d}", n) for (y, m), n in sorted(per_period.items())
        ],
        "row_errors": outcome.row_errors[:SHOWN_ROW_ERRORS],
        "bad_lines": len({e.line for e in outcome.row_errors}),
        "hidden_row_errors": max(0, len(outcome.row_errors) - SHOWN_ROW_ERRORS),
        "stale": outcome.stale[:SHOWN_STALE_BILLS],
        "hidden_stale": max(0, len(outcome.stale) - SHOWN_STALE_BILLS),
        "header": HEADER,
    }


def _same_period(form: UsageEntryForm) -> dict:
    # Finance enters a month for customer after customer: keep the period, clear the rest.
    return {"year": form.cleaned_data["year"], "month": form.cleaned_data["month"]}


@require_GET
def csv_template(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="usage-template.csv"'
    writer = csv.writer(response, lineterminator="\n")
    writer.writerow(HEADER.split(","))
    writer.writerows(template_rows())
    return response
