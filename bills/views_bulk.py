"""Bulk actions from the dashboard, with a confirmation (SPEC "Pages": /dashboard, "select rows
for bulk actions with a confirmation").

GET /bills/bulk/<action> (approve, reject, send) takes the ticked rows (`ids`) or every bill
matching the dashboard's filters (`all=1`, the filters read from `next`, the dashboard's address,
by the page's own FilterSet) and shows what will happen: how many bills, their exact total, the
ones that will be skipped and why. Confirming POSTs the ids it showed; the answer lists every
bill's outcome. The rules are bills.services.bulk's. Works as plain forms; with htmx the confirm
form swaps in the result.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.roles import can, refusal
from billing_site.core import numbers
from billing_site.core.errors import DomainError
from billing_site.core.http import forbidden, safe_next
from bills.filters import BillPageFilterSet
from bills.selectors import bill_list
from bills.services import bulk_send_start, lifecycle
from bills.services.bulk import (
    BULK_ACTIONS,
    MAX_BULK_IDS,
    Outcome,
    bulk_apply,
    bulk_counts,
    bulk_preview,
)


@require_http_methods(["GET", "POST"])
def bulk(request, action: str):
    """GET: the confirmation of `action` on the chosen bills. POST: act, and list each outcome.
    A role that may not take the action at all gets the 403 page; no bills chosen, bad ids or
    too many: back to the dashboard with a message; a reject without its comment: the
    confirmation again with the error (400)."""
    if action not in BULK_ACTIONS:
        raise Http404(f"There is no bulk “{action}”.")
    transition = lifecycle.TRANSITIONS[action]
    if not can(request.user, transition.perm):
        return forbidden(request, refusal(request.user, transition.perm))
    back = safe_next(request, fallback=reverse("bills:dashboard"))
    data = request.POST if request.method == "POST" else request.GET
    try:
        ids = _selected(request, data, back)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(back)
    if request.method == "GET":
        preview = bulk_preview(user=request.user, action=action, bill_ids=ids)
        return _confirm(request, action, preview, back)
    # The version of each bill the confirmation showed: one that changed since fails.
    versions = {pk: lifecycle.parse_version(data.get(f"version_{pk}")) for pk in ids}
    if action == "send":  # sends run in the worker (issue 12); the page follows the job
        job = bulk_send_start(user=request.user, bill_ids=ids, versions=versions)
        if not request.htmx:
            url = reverse("bills:generation_job", args=[job.pk])
            return redirect(f"{url}?{urlencode({'next': back})}")
        return bulk_job_page(request, job, back)
    try:
        comment = data.get("comment", "")
        outcomes = bulk_apply(
            user=request.user, action=action, bill_ids=ids, comment=comment, versions=versions
        )
    except DomainError as error:  # the comment: the ids and the role were checked above
        preview = bulk_preview(user=request.user, action=action, bill_ids=ids)
        return _confirm(request, action, preview, back, errors=error.errors, status=400)
    return _result(request, action, outcomes, back)


def _selected(request, data: QueryDict, back: str) -> list[int]:
    """The ticked ids, or with `all` the ids of every bill the dashboard at `back` lists (its
    filters, its order). Raises DomainError(kind="invalid") naming "ids"."""
    if data.get("all"):
        query = QueryDict(urlsplit(back).query)
        filterset = BillPageFilterSet(data=query, queryset=bill_list(), request=request)
        filterset.is_valid()  # as the page: a value that does not parse filters nothing
        ids = list(filterset.qs.values_list("pk", flat=True)[: MAX_BULK_IDS + 1])
        if not ids:
            raise DomainError.invalid("No bills match these filters.", "ids")
        if len(ids) > MAX_BULK_IDS:
            raise DomainError.invalid(
                f"{filterset.qs.count():,} bills match these filters; a bulk action takes at "
                f"most {MAX_BULK_IDS} at a time. Narrow the filters first.",
                "ids",
            )
        return ids
    if len(data.getlist("ids")) > MAX_BULK_IDS:
        raise DomainError.invalid(
            f"A bulk action takes at most {MAX_BULK_IDS} bills at a time; tick fewer.", "ids"
        )
    ids = []
    for text in data.getlist("ids"):
        try:
            ids.append(numbers.parse_text(text, min_value=1, max_value=numbers.MAX_INT64))
        except numbers.WholeNumberError:
            raise DomainError.invalid(
                f"{numbers.quote_typed(text)} is not a bill id.", "ids"
            ) from None
    if not ids:
        raise DomainError.invalid(
            "Tick the bills to act on first, or choose all bills matching the filters.", "ids"
        )
    return ids


def _confirm(request, action, preview, back, *, errors=None, status=200):
    context = {
        "action": action,
        "transition": lifecycle.TRANSITIONS[action],
        "preview": preview,
        "back": back,
        "errors": errors or {},
        "comment": request.POST.get("comment", ""),
    }
    template = "bills/bulk_confirm.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#bulk_main"
    return render(request, template, context, status=status)


def bulk_job_page(request, job, back):
    """A bulk send's job: its progress (polled by htmx until finished), then each bill's
    outcome as the other bulk actions show them at once."""
    if job.result:
        outcomes = [Outcome(**o) for o in job.result["results"]]
        return _result(request, "send", outcomes, back)
    context = {
        "action": "send",
        "transition": lifecycle.TRANSITIONS["send"],
        "job": job,
        "back": back,
    }
    template = "bills/bulk_confirm.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#bulk_main"
    return render(request, template, context)


def _result(request, action, outcomes, back):
    bills = {b.pk: b for b in bill_list().filter(pk__in=[o.id for o in outcomes])}
    context = {
        "action": action,
        "transition": lifecycle.TRANSITIONS[action],
        "results": [(o, bills.get(o.id)) for o in outcomes],
        "counts": bulk_counts(action=action, outcomes=outcomes),
        "back": back,
    }
    template = "bills/bulk_confirm.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#bulk_main"
    return render(request, template, context)
