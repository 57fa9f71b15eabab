"""The navigation's queue count as a fragment, for htmx to refresh after a decision."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from bills.queue import bill_awaiting_count, has_queue


@require_GET
def awaiting_count(request):
    """The "waiting for me" badge beside "Dashboard" (bills/partials/awaiting_count.html),
    which base.html reloads on the billsChanged event; 204 (nothing to swap) for a user with
    no queue."""
    if not has_queue(request.user):
        return HttpResponse(status=204)
    context = {"count": bill_awaiting_count(request.user)}
    return render(request, "bills/partials/awaiting_count.html", context)
