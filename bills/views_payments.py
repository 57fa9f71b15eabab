"""The bill page's payment buttons: "Record payment" and "Undo payment" (Finance).

Each parses the form, calls one service (bills.services.payments) and answers the way the other
buttons of the bill page do (bills.views.act): with htmx the bill panel, with its notice and the
event that refreshes the dashboard's tiles; without, a redirect with a message.
"""

from __future__ import annotations

from django.views.decorators.http import require_POST

from billing_site.core.money import format_money, with_currency
from bills.models import Bill, Status
from bills.services import lifecycle, payment_record, payment_undo
from bills.views import act


def _recorded(bill: Bill) -> str:
    if bill.status == Status.PAID:
        return f"Bill #{bill.pk}: payment recorded; the bill is paid in full."
    balance = with_currency(format_money(bill.balance_due), bill.currency)
    return f"Bill #{bill.pk}: payment recorded; {balance} is still due."


@require_POST
def record(request, pk: int):
    def run() -> Bill:
        return payment_record(
            bill=pk,
            user=request.user,
            date=request.POST.get("date", ""),
            amount=request.POST.get("amount", ""),
            reference=request.POST.get("reference", ""),
            version=lifecycle.parse_version(request.POST.get("version")),
        ).bill

    return act(request, pk, run, done=_recorded)


@require_POST
def undo(request, pk: int, payment_id: int):
    def run() -> Bill:
        return payment_undo(
            bill=pk,
            payment=payment_id,
            user=request.user,
            comment=request.POST.get("comment", ""),
            version=lifecycle.parse_version(request.POST.get("version")),
        ).bill

    return act(request, pk, run, done=f"Bill #{pk}: payment #{payment_id} undone.")
