"""What every page's navigation shows of the bills: the count of the viewer's queue."""

from __future__ import annotations

from functools import cache

from bills.queue import bill_awaiting_count, has_queue


def approval_queue(request) -> dict:
    """`awaiting_count`: how many bills wait on the viewer's approval (bills.queue), for the
    "Dashboard" link; None for a visitor with no queue (Finance, anonymous).

    Lazy and asked once: the COUNT query runs only when a template shows it (the pages that
    render base.html's navigation, not the htmx fragments), however often it is used there;
    none when the view already counted the queue (`request.awaiting_count`).
    """
    user = getattr(request, "user", None)
    if not has_queue(user):
        return {"awaiting_count": None}
    # The dashboard showing exactly the queue has counted it already (bills.views.dashboard).
    known = getattr(request, "awaiting_count", None)
    return {"awaiting_count": cache(lambda: bill_awaiting_count(user) if known is None else known)}
