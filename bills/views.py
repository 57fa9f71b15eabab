"""Bill pages: the dashboard, a bill, its invoice, and the buttons that act on bills.

Each view parses input, calls one service or selector and renders. With htmx it answers with
the fragment that changed (a table, a row, the bill panel); without, the page or a redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from billing_site.core import periods
from billing_site.core.errors import DomainError
from billing_site.core.filters import filter_for_page, filter_query
from billing_site.core.http import add_domain_errors, forbidden, safe_next
from bills.aging import bill_aging_totals
from bills.filters import BillPageFilterSet
from bills.forms import GenerateForm, RowsForm
from bills.generation_summary import skipped_shown
from bills.invoices import document_pdf, invoice_file, invoice_view
from bills.models import Bill, JobKind
from bills.paging import bill_pages
from bills.queue import AWAITING_ME, has_queue, queue_path
from bills.selectors import (
    bill_get,
    bill_list,
    bill_list_totals,
    bill_status_totals,
    bill_total_owed,
)
from bills.services import (
    bill_approve,
    bill_dismiss_usage_change,
    bill_rebill,
    bill_reject,
    bill_revert,
    bill_send,
    bill_update,
    bill_void,
    delivery_resend,
    generation_result_of,
    generation_start,
    job_get,
    lifecycle,
    overage_exact_amount,
)
from bills.views_bulk import bulk_job_page
from usage.analysis import usage_anomalies

BILLS_CHANGED = "billsChanged"  # a row changed: the status counts refresh
BILLS_GENERATED = "billsGenerated"  # new bills: the whole table refreshes
AGING_TILES_IGNORE = ("status", "awaiting", "outstanding", "overdue", "aging")


@require_GET
def dashboard(request):
    if not request.GET and not request.htmx and has_queue(request.user):
        # Sales and CS open on their queue; the redirect keeps URL, form and rows in step.
        # Any query string (?awaiting= from "Clear") shows every bill, as does an htmx request
        # (it comes from the page's own controls, which say what they want).
        return redirect(queue_path())
    filterset, bills = filter_for_page(BillPageFilterSet, request, bill_list())
    rows_form = RowsForm(request.GET)
    filters = filterset.form.cleaned_data
    # The tiles count every status: the filters less the status one. Without a status filter
    # those are the list's bills, counted per period and status in one query for both.
    periods = None
    if filters.get("status"):
        statuses = bill_status_totals(bills=filterset.qs_without("status"))
    else:
        periods, statuses = bill_list_totals(bills)
    page = Paginator(bill_pages(bills, periods=periods), rows_form.rows()).get_page(
        request.GET.get("page")
    )
    if _is_the_queue(filters):
        # The navigation's queue count (context_processors.approval_queue) is this list's.
        request.awaiting_count = page.paginator.count
    context = {
        "form": filterset.form,
        "rows_form": rows_form,
        "filters": filters,
        "page": _flagged(page),
        "statuses": statuses,
        "total": sum(s["count"] for s in statuses),
        "total_amount": bill_total_owed(statuses),
        # The aging tiles: what sent bills still owe, by days past due (their own filters aside).
        "aging": bill_aging_totals(bills=filterset.qs_without(*AGING_TILES_IGNORE)),
        "back": request.get_full_path(),
        # GET /api/bills.csv of exactly these rows: the same filters (and sort), every page.
        "export_query": filter_query(filterset),
        "chips": filterset.form.chips(),
        "generate_form": GenerateForm(),
        "has_queue": has_queue(request.user),
    }
    if request.htmx and not request.htmx.history_restore_request:
        part = "status_counts" if request.htmx.target == "status-counts" else "bill_index"
        # The table brings the form's synced fields and filter chips along out of band.
        context["oob"] = part == "bill_index"
        return render(request, f"bills/dashboard.html#{part}", context)
    return render(request, "bills/dashboard.html", context)


def _is_the_queue(filters: dict) -> bool:
    # ?awaiting=me and no other filter (an order is not one): the bills of the viewer's queue.
    others = (v for k, v in filters.items() if k not in ("awaiting", "sort"))
    return filters.get("awaiting") == AWAITING_ME and all(v in (None, "", []) for v in others)


@require_POST
def generate(request):
    """Start a month end as background work (services.generation_start); the panel then
    follows the job (generation_job)."""
    form = GenerateForm(request.POST)
    job, status = None, 400
    if form.is_valid():
        try:
            job = generation_start(**form.cleaned_data, user=request.user)
            status = 202
        except DomainError as error:
            if error.kind == "forbidden" and not request.htmx:
                return forbidden(request, error.message)
            add_domain_errors(form, error)
            status = error.status_code
    if job is not None and not request.htmx:
        return redirect("bills:generation_job", job_id=job.pk)
    if request.htmx:
        context = {"generate_form": form, **_job_context(job)}
        return render(request, "bills/dashboard.html#generate_panel", context, status=status)
    messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("bills:dashboard")


def _job_context(job) -> dict:
    if job is None:
        return {}
    result = generation_result_of(job)
    context = {
        "job": job,
        "result": result,
        "result_label": periods.label(job.year, job.month),
        "result_period": f"{job.year}-{job.month:02d}",
    }
    if result is not None:
        context["skipped"] = skipped_shown(result)
    return context


@require_GET
def generation_job(request, job_id: str):
    """A job's progress, then its outcome. A month end: the generate panel's fragment for htmx
    (polled every second until it is finished; a finished one with new bills refreshes the
    table), else a page of its own. A bulk send: views_bulk.bulk_job_page."""
    try:
        job = job_get(job_id=job_id, user=request.user)
    except DomainError as error:
        if error.kind == "forbidden":
            return forbidden(request, error.message)
        raise Http404(error.message) from None
    if job.kind == JobKind.BULK_SEND:
        back = safe_next(request, fallback=reverse("bills:dashboard"))
        return bulk_job_page(request, job, back)
    context = _job_context(job)
    if request.htmx:
        response = render(request, "bills/dashboard.html#generation_job", context)
        if job.finished and job.result and job.result.get("created"):
            trigger_client_event(response, BILLS_GENERATED)
        return response
    return render(request, "bills/generation_job.html", context)


@require_GET
def detail(request, pk: int):
    bill = bill_get(pk)
    if bill is None:
        raise Http404(f"Bill #{pk} does not exist.")
    template = "bills/detail.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#bill_main"
    return render(request, template, bill_context(bill))


def _flagged(page):
    """The page's bills, each with `usage_flag`: why its month's usage looks suspicious, or ""
    (usage.analysis.usage_anomalies, one query for the page)."""
    bills = list(page.object_list) if hasattr(page, "object_list") else list(page)
    flags = usage_anomalies(keys=[(b.customer_id, b.year, b.month) for b in bills])
    for bill in bills:
        bill.usage_flag = flags.get((bill.customer_id, bill.year, bill.month), "")
    if hasattr(page, "object_list"):
        page.object_list = bills
        return page
    return bills


def bill_context(bill: Bill, **extra) -> dict:
    _flagged([bill])
    return {
        "bill": bill,
        "period_label": periods.label(bill.year, bill.month),
        "exact_amount": overage_exact_amount(bill.overage_units, bill.overage_unit_cost),
        "back": reverse("bills:detail", args=[bill.pk]),
        "errors": {},
        "posted": {},
        **extra,
    }


@require_GET
def invoice(request, pk: int):
    bill = bill_get(pk)
    if bill is None:
        raise Http404(f"Bill #{pk} does not exist.")
    mark = lifecycle.STATUS_VIEWS[bill.status].stamp
    context = {"bill": bill, "invoice": invoice_view(bill, mark=mark)}
    return render(request, "bills/invoice.html", context)


@require_GET
def invoice_download(request, pk: int):
    bill = bill_get(pk)
    if bill is None:
        raise Http404(f"Bill #{pk} does not exist.")
    name, pdf = invoice_file(bill, mark=lifecycle.STATUS_VIEWS[bill.status].stamp)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
def credit_note_download(request, pk: int):
    bill = bill_get(pk, history=False)
    credit_note = getattr(getattr(bill, "invoice", None), "credit_note", None) if bill else None
    if credit_note is None:
        raise Http404(f"Bill #{pk} has no credit note.")
    pdf = document_pdf(type(credit_note).objects.get(pk=credit_note.pk))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="credit-note-{credit_note.number}.pdf"'
    return response


# --- the buttons ---------------------------------------------------------------------------


def act(
    request, pk: int, run: Callable[[], Bill], *, done: str | Callable[[Bill], str]
) -> HttpResponse:
    """Run one service for a button and answer the way the request came in."""
    back = safe_next(request, fallback=reverse("bills:detail", args=[pk]))
    try:
        result = run()
        error = None
        done = done(result) if callable(done) else done
    except DomainError as exc:
        error = exc
    if not request.htmx:
        if error is None:
            messages.success(request, done)
        elif error.kind == "forbidden":
            return forbidden(request, error.message)
        elif error.kind == "not_found":
            raise Http404(error.message)
        else:
            messages.error(request, error.message)
        return redirect(back)
    if error is not None and error.kind == "not_found":
        response = render(request, "includes/flash.html", {"flash": error.message}, status=404)
        return reswap(retarget(response, "#messages"), "innerHTML")
    status = error.status_code if error else 200
    notice = {
        "error": error.message if error else "",
        "error_kind": error.kind if error else "",
        "done": "" if error else done,
    }
    if (request.htmx.target or "").startswith("bill-row-"):
        [bill] = _flagged([bill_get(pk, history=False)])
        context = {"bill": bill, "back": back, **notice}
        response = render(request, "bills/dashboard.html#bill_row", context, status=status)
    else:
        errors = error.errors if error else {}
        posted = request.POST if error else {}
        context = bill_context(bill_get(pk), errors=errors, posted=posted, **notice)
        response = render(request, "bills/detail.html#bill_main", context, status=status)
    return trigger_client_event(response, BILLS_CHANGED) if error is None else response


def _versioned(request, service: Callable[..., Bill], **kwargs) -> Callable[[], Bill]:
    """`service` with the bill version the page was showing (the form's hidden `version`), so
    a bill that changed since is a 409 instead of a second decision (SPEC "Bill lifecycle")."""

    def run() -> Bill:
        return service(**kwargs, version=lifecycle.parse_version(request.POST.get("version")))

    return run


def _missing(message: str, field: str) -> Bill:
    raise DomainError.invalid(message, field)


def _comment(request) -> str:
    return request.POST.get("comment", "")


@require_POST
def approve(request, pk: int):
    run = _versioned(request, bill_approve, bill=pk, user=request.user, comment=_comment(request))
    return act(request, pk, run, done=f"Bill #{pk}: approval recorded.")


@require_POST
def reject(request, pk: int):
    run = _versioned(request, bill_reject, bill=pk, user=request.user, comment=_comment(request))
    return act(request, pk, run, done=f"Bill #{pk} rejected.")


@require_POST
def revert(request, pk: int):
    run = _versioned(request, bill_revert, bill=pk, user=request.user, comment=_comment(request))
    return act(request, pk, run, done=f"Bill #{pk}: decision undone; it is a draft again.")


@require_POST
def update(request, pk: int):
    cost = request.POST.get("overage_unit_cost", "").strip() or None
    if request.POST.get("intent") == "reprice" and cost is None:
        run = partial(_missing, "Enter the new unit cost, e.g. 0.0025.", "overage_unit_cost")
    else:
        run = _versioned(
            request,
            bill_update,
            bill=pk,
            user=request.user,
            comment=_comment(request),
            overage_unit_cost=cost,
            confirm=request.POST.get("confirm") == "yes",
        )
    done = f"Bill #{pk} repriced." if cost else f"Bill #{pk} recomputed from current usage."
    return act(request, pk, run, done=done)


@require_POST
def send(request, pk: int):
    run = _versioned(request, bill_send, bill=pk, user=request.user)
    return act(
        request,
        pk,
        run,
        done=lambda b: f"Bill #{pk} sent; invoice email to {b.customer.billing_email} queued.",
    )


@require_POST
def void(request, pk: int):
    run = _versioned(request, bill_void, bill=pk, user=request.user, comment=_comment(request))
    return act(request, pk, run, done=_voided)


def _voided(bill: Bill) -> str:
    credit_note = bill.invoice.credit_note
    return (
        f"Bill #{bill.pk} voided: credit note {credit_note.number} cancels invoice "
        f"{bill.invoice.number}; its email to {credit_note.bill_to_email} is queued. The month "
        "may be billed again."
    )


@require_POST
def resend(request, pk: int):
    """Email the bill's invoice (or credit note) again (services.delivery_resend)."""

    def run():
        delivery = delivery_resend(bill=pk, user=request.user)
        return delivery.bill

    done = f"Bill #{pk}: the email is queued again; this page shows when it is delivered."
    return act(request, pk, run, done=done)


@require_POST
def dismiss(request, pk: int):
    run = _versioned(
        request, bill_dismiss_usage_change, bill=pk, user=request.user, comment=_comment(request)
    )
    return act(request, pk, run, done=f"Bill #{pk}: the invoice stands as sent.")


@require_POST
def rebill(request, pk: int):
    run = _versioned(request, bill_rebill, bill=pk, user=request.user)
    return act(request, pk, run, done=lambda new: f"Bill #{pk} billed again as bill #{new.pk}.")
