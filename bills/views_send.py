"""Sending a bill, with a look first: GET /bills/<id>/send shows the recipient, the email and a
preview PDF as sending now would make them; the page's Send button POSTs to the same address,
which is views.send (the button on the dashboard row and the bill page posts there too).

Finance only (403 page otherwise), and only a bill that can be sent now (409 page otherwise).
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import Perm, can, refusal
from billing_site.core import periods
from billing_site.core.errors import DomainError
from billing_site.core.http import forbidden, safe_next
from bills import views
from bills.models import Bill
from bills.selectors import bill_get
from bills.send_preview import send_preview, send_preview_pdf
from bills.services import lifecycle


def _sendable(request, pk: int) -> Bill | HttpResponse:
    """The bill, or the answer that says why it cannot be previewed for sending."""
    bill = bill_get(pk, history=False)
    if bill is None:
        raise Http404(f"Bill #{pk} does not exist.")
    if not can(request.user, Perm.SEND_BILL, bill):
        return forbidden(request, refusal(request.user, Perm.SEND_BILL))
    try:
        lifecycle.check(bill, "send")
    except DomainError as error:
        context = {"bill": bill, "error": error.message, "back": _back(request, bill)}
        return render(request, "bills/send_preview.html", context, status=409)
    return bill


def _back(request, bill: Bill) -> str:
    return safe_next(request, fallback=reverse("bills:detail", args=[bill.pk]))


@require_http_methods(["GET", "POST"])
def send(request, pk: int):
    """GET: the preview page. POST: send it (views.send: the page, the row and the panel)."""
    if request.method == "POST":
        return views.send(request, pk)
    bill = _sendable(request, pk)
    if isinstance(bill, HttpResponse):
        return bill
    context = {
        "bill": bill,
        "preview": send_preview(bill),
        "period_label": periods.label(bill.year, bill.month),
        "back": _back(request, bill),
    }
    return render(request, "bills/send_preview.html", context)


@require_GET
def preview_pdf(request, pk: int):
    """The invoice PDF as sending now would make it, marked PREVIEW, shown in the browser."""
    bill = _sendable(request, pk)
    if isinstance(bill, HttpResponse):
        return bill
    response = HttpResponse(send_preview_pdf(bill), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="invoice-preview-bill-{bill.pk}.pdf"'
    return response
