"""The Record usage page (Finance): one customer-month by hand, or a CSV file of them.

Both forms end in usage.services.usage_record_many, which decides every rule: the entry form
through the row schema, the CSV file through usage.csv_import (the same reader and recording as
`manage.py import_usage`). A recording answers the page itself (not a redirect) with a summary:
posting it again sets the same totals, so a reload is harmless.
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
from bills.selectors import bill_list_stale
from usage.csv_import import (
    HEADER,
    CsvFileError,
    CsvLineError,
    CsvRowsError,
    parse_usage_csv,
    recorded_summary,
    template_rows,
    usage_record_csv,
)
from usage.forms import UsageEntryForm, UsageUploadForm
from usage.services import UsageResult, UsageRow, UsageRowsError, usage_record_many

SHOWN_ROW_ERRORS = 500
SHOWN_STALE_BILLS = 50


@dataclass
class Outcome:
    """What one recording did, for the summary: counts, months per period, stale bills."""

    result: UsageResult | None = None
    months: list[UsageRow] = field(default_factory=list)
    row_errors: list[CsvLineError] = field(default_factory=list)
    stale: list = field(default_factory=list)  # bills, from bills.selectors.bill_list_stale


@require_http_methods(["GET", "POST"])
def record(request):
    if not can(request.user, Perm.RECORD_USAGE):
        message = f"Your role ({request.user.role}) may not record usage; Finance does."
        return forbidden(request, message)
    entry_form, upload_form, outcome = UsageEntryForm(), UsageUploadForm(), Outcome()
    if request.POST.get("form") == "entry":
        entry_form = UsageEntryForm(request.POST)
        outcome = record_entry(request, entry_form)
        if outcome.result and entry_form.row:
            entry_form = UsageEntryForm(initial=_same_period(entry_form.row))
    elif request.POST.get("form") == "upload":
        upload_form = UsageUploadForm(request.POST, request.FILES)
        outcome = record_upload(request, upload_form)
    elif request.method == "POST":
        messages.error(request, "Choose a form to send: one month, or a CSV file.")
    if outcome.result:
        messages.success(request, recorded_summary(outcome.result))
    return render(request, "usage/record.html", page_context(entry_form, upload_form, outcome))


def record_entry(request, form: UsageEntryForm) -> Outcome:
    if not form.is_valid() or form.row is None:
        return Outcome()
    try:
        result = usage_record_many(items=[form.row], user=request.user)
    except UsageRowsError as error:
        form.add_row_errors(error.row_errors)
        return Outcome()
    except DomainError as error:
        add_domain_errors(form, error)
        return Outcome()
    return Outcome(result=result, months=[form.row], stale=bill_list_stale([form.row]))


def record_upload(request, form: UsageUploadForm) -> Outcome:
    if not form.is_valid():
        return Outcome()
    try:
        parsed = parse_usage_csv(form.cleaned_data["file"].read())
        result = usage_record_csv(parsed=parsed, user=request.user)
    except CsvFileError as error:
        form.add_error("file", error.message)
        return Outcome()
    except CsvRowsError as error:
        return Outcome(row_errors=error.line_errors)
    except DomainError as error:
        form.add_error("file", error.message)
        return Outcome()
    return Outcome(result=result, months=parsed.rows, stale=bill_list_stale(parsed.rows))


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


def _same_period(row: UsageRow) -> dict:
    # Finance enters a month for customer after customer: keep the period, clear the rest.
    return {"year": row.year, "month": row.month}


@require_GET
def csv_template(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="usage-template.csv"'
    writer = csv.writer(response, lineterminator="\n")
    writer.writerow(HEADER.split(","))
    writer.writerows(template_rows())
    return response
