"""The Record usage page (Finance): one customer-month by hand, or a CSV file, previewed first.

Every rule is usage.services': the entry form writes through `usage_record_many` (source page);
a file is read by usage.csv_import (the reader `import_usage` shares), previewed with
`usage_upload_preview` (nothing written but the preview) and recorded by its Confirm,
`usage_upload_confirm` (source csv). Each step answers the page itself: posting an entry again
sets the same total (unchanged), posting a file again previews it again, and a preview can be
confirmed once.
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
from billing_site.core.templatetags.display import month_short
from bills.selectors import bill_list, bill_list_stale
from customers.selectors import customer_list
from usage.csv_import import (
    HEADER,
    MAX_ROWS,
    CsvFileError,
    CsvLineError,
    CsvRowsError,
    parse_usage_csv,
    recorded_summary,
    template_rows,
    usage_preview_csv,
)
from usage.forms import UsageEntryForm, UsageUploadForm
from usage.models import UsageSource
from usage.selectors import usage_recorded
from usage.services import (
    UsageChange,
    UsagePreview,
    UsageResult,
    UsageRow,
    UsageRowsError,
    usage_record_many,
    usage_upload_confirm,
)

SHOWN_ROW_ERRORS = 500
SHOWN_STALE_BILLS = 50
SHOWN_CHANGES = 100
# bills.selectors filter by IN lists; SQLite binds at most 32,766 values in one query.
BILLS_CHUNK = 10_000


@dataclass
class Outcome:
    """What one post did, for the page: a recording's counts, months and stale bills; a file's
    problems; or a file's preview with the bills its Confirm would flag."""

    result: UsageResult | None = None
    months: list[UsageRow] = field(default_factory=list)
    row_errors: list[CsvLineError] = field(default_factory=list)
    bad_lines: int = 0
    stale: list = field(default_factory=list)  # bills, from bills.selectors
    preview: UsagePreview | None = None
    # One month by hand: what the flash says was recorded, or the total it would replace
    # (nothing written until the person confirms).
    note: str = ""
    overwrite: dict | None = None


@require_http_methods(["GET", "POST"])
def record(request):
    if not can(request.user, Perm.RECORD_USAGE):
        message = f"Your role ({request.user.role}) may not record usage; Finance does."
        return forbidden(request, message)
    entry_form, upload_form, outcome = UsageEntryForm(), UsageUploadForm(), Outcome()
    posted = request.POST.get("form")
    if posted == "entry":
        entry_form = UsageEntryForm(request.POST)
        outcome = record_entry(request, entry_form)
        if outcome.result and entry_form.row:
            entry_form = UsageEntryForm(initial=_same_period(entry_form.row))
    elif posted == "upload":
        upload_form = UsageUploadForm(request.POST, request.FILES)
        outcome = preview_upload(request, upload_form)
    elif posted == "confirm":
        outcome = confirm_upload(request)
    elif request.method == "POST":
        messages.error(request, "Choose a form to send: one month, or a CSV file.")
    if outcome.result:
        messages.success(request, outcome.note or recorded_summary(outcome.result))
    return render(request, "usage/record.html", page_context(entry_form, upload_form, outcome))


def record_entry(request, form: UsageEntryForm) -> Outcome:
    if not form.is_valid() or form.row is None:
        return Outcome()
    row, name = form.row, form.cleaned_data["customer"].name
    old = usage_recorded(customer_id=row.customer_id, year=row.year, month=row.month)
    if old is not None and old != row.api_usage and form.cleaned_data["confirm_old"] != str(old):
        # A total is there: show it and ask, rather than overwrite it unseen.
        label = month_short(f"{row.year}-{row.month:02d}")
        return Outcome(overwrite={"name": name, "label": label, "old": old, "new": row.api_usage})
    try:
        result = usage_record_many(items=[form.row], user=request.user, source=UsageSource.PAGE)
    except UsageRowsError as error:
        form.add_row_errors(error.row_errors)
        return Outcome()
    except DomainError as error:
        add_domain_errors(form, error)
        return Outcome()
    return Outcome(
        result=result,
        months=[row],
        stale=bill_list_stale([row]),
        note=entry_note(name, row, old),
    )


def entry_note(name: str, row: UsageRow, old: int | None) -> str:
    """What the flash says of one month by hand: "Acme Corp, Sep 2026: 12,000 → 15,000 API
    calls" (or "…: 15,000 API calls, a new month" / "…, unchanged")."""
    head = f"{name}, {month_short(f'{row.year}-{row.month:02d}')}: "
    if old is None:
        return f"{head}{row.api_usage:,} API calls, a new month."
    if old == row.api_usage:
        return f"{head}{row.api_usage:,} API calls, unchanged."
    return f"{head}{old:,} → {row.api_usage:,} API calls."


def preview_upload(request, form: UsageUploadForm) -> Outcome:
    if not form.is_valid():
        return Outcome()
    upload = form.cleaned_data["file"]
    try:
        parsed = parse_usage_csv(upload.file)
        preview = usage_preview_csv(parsed=parsed, file_name=upload.name, user=request.user)
    except CsvFileError as error:
        form.add_error("file", error.message)
        return Outcome()
    except CsvRowsError as error:
        return Outcome(row_errors=error.line_errors, bad_lines=error.bad_lines)
    except DomainError as error:
        form.add_error("file", error.message)
        return Outcome()
    return Outcome(preview=preview, stale=bills_to_flag(preview.changes))


def confirm_upload(request) -> Outcome:
    try:
        done = usage_upload_confirm(upload_id=request.POST.get("upload"), user=request.user)
    except UsageRowsError as error:
        # A row that passed the preview fails now (a customer deleted since); rows are lines.
        lines = [CsvLineError(e.row, e.field, e.code, e.message) for e in error.row_errors]
        return Outcome(row_errors=lines, bad_lines=error.bad_rows)
    except DomainError as error:
        messages.error(request, error.message)
        return Outcome()
    stale = _chunked(bill_list_stale, done.rows)
    return Outcome(result=done.result, months=done.rows, stale=stale)


def bills_to_flag(changes: list[UsageChange]) -> list:
    """The unsent bills (not yet sent: bills' BillQuerySet.unsent) that the Confirm would leave
    computed from another total than the new one. bills.selectors.bill_list_stale compares with
    the usage recorded now, so before the write the changed months' bills are read here."""
    wanted = {(c.customer_id, c.year, c.month): c.new for c in changes}

    def flagged(keys: list) -> list:
        bills = bill_list().filter(
            customer_id__in={k[0] for k in keys},
            year__in={k[1] for k in keys},
            month__in={k[2] for k in keys},
        )
        return [
            bill
            for bill in bills.unsent()
            if (key := (bill.customer_id, bill.year, bill.month)) in wanted
            and bill.api_usage != wanted[key]
        ]

    return _chunked(flagged, list(wanted))


def _chunked(read, items: list) -> list:
    found: list = []
    for start in range(0, len(items), BILLS_CHUNK):
        found += read(items[start : start + BILLS_CHUNK])
    return found


def page_context(entry_form, upload_form, outcome: Outcome) -> dict:
    per_period: dict[tuple[int, int], int] = {}
    for _, year, month, _ in outcome.months:
        per_period[(year, month)] = per_period.get((year, month), 0) + 1
    preview = outcome.preview
    changes = preview.changes if preview else []
    new = [c for c in changes if c.old is None]
    updated = [c for c in changes if c.old is not None]
    return {
        "entry_form": entry_form,
        "upload_form": upload_form,
        "outcome": outcome,
        "summary": recorded_summary(outcome.result) if outcome.result else "",
        "periods": [
            (periods.label(y, m), f"{y}-{m:02d}", n) for (y, m), n in sorted(per_period.items())
        ],
        "row_errors": outcome.row_errors[:SHOWN_ROW_ERRORS],
        "bad_lines": outcome.bad_lines or len({e.line for e in outcome.row_errors}),
        "hidden_row_errors": max(0, len(outcome.row_errors) - SHOWN_ROW_ERRORS),
        "stale": outcome.stale[:SHOWN_STALE_BILLS],
        "hidden_stale": max(0, len(outcome.stale) - SHOWN_STALE_BILLS),
        "preview": preview,
        "new_months": new[:SHOWN_CHANGES],
        "hidden_new": max(0, len(new) - SHOWN_CHANGES),
        "changed_months": updated[:SHOWN_CHANGES],
        "hidden_changed": max(0, len(updated) - SHOWN_CHANGES),
        "header": HEADER,
        "max_rows": MAX_ROWS,
        "example": _example(),
    }


def _example() -> dict | None:
    # The format's example line names a customer that exists (the first by name), with the
    # last month that has ended; none when there are no customers yet.
    customer = customer_list().select_related(None).only("id", "name").first()
    if customer is None:
        return None
    year, month = periods.last_ended_month()
    return {"id": customer.pk, "name": customer.name, "year": year, "month": month}


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
