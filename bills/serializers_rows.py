"""Bill list rows built directly: what BillSerializer(bills, many=True).data gives, key for key
and value for value, without DRF's per-field machinery (issue 14: serializing a page of 50
bills took 7 of the 21 ms of `GET /api/bills`; this takes about a fifth of that).

BillSerializer stays the contract: the OpenAPI document is made from it, and
tests/bills/test_serializers_rows.py holds the two equal over bills in every state (sent, paid,
void with a credit note, billed again, flagged). A field added to BillSerializer and not here
fails that test.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Context, Decimal

from billing_site.core.api import iso_datetime
from bills.models import Bill

CENTS = Decimal("0.01")
UNIT_COST = Decimal("0.000001")  # Bill.overage_unit_cost's 6 places


# Room for the largest amount (27 integer digits and 6 places), as DRF's DecimalField gives its
# quantize a context of the field's max_digits; the default 28 digits would refuse it.
_EXACT = Context(prec=40)


def _money(value: Decimal | None, places: Decimal = CENTS) -> str | None:
    # DRF's DecimalField: quantized to the field's places, written with "{:f}".
    return None if value is None else f"{value.quantize(places, context=_EXACT):f}"


def related_or_none(obj, name: str):
    """obj.name, or None when obj is None or the relation has no row (a reverse one-to-one:
    Bill.replaced_by, Invoice.credit_note)."""
    try:
        return getattr(obj, name) if obj is not None else None
    except AttributeError:  # a reverse one-to-one with no row (Bill.replaced_by)
        return None


def bill_summary_row(b: Bill) -> dict:
    """One bill as BillSummarySerializer gives it (the CSV export's columns too): a dict in
    BillSummarySerializer.Meta.fields' order, the bill read as bill_list() reads it."""
    invoice = related_or_none(b, "invoice")
    credit_note = related_or_none(invoice, "credit_note")
    replaced_by = related_or_none(b, "replaced_by")
    return {
        "id": b.pk,
        "customer_id": b.customer_id,
        "customer_name": b.customer.name,
        "year": b.year,
        "month": b.month,
        "api_usage": b.api_usage,
        "monthly_api_limit": b.monthly_api_limit,
        "overage_units": b.overage_units,
        "overage_unit_cost": _money(b.overage_unit_cost, UNIT_COST),
        "overage_amount": _money(b.overage_amount),
        "currency": b.currency,
        "status": b.status,
        "approvals_needed": b.approvals_needed,
        "invoice_number": invoice.number if invoice else None,
        "issued_on": invoice.issued_on.isoformat() if invoice else None,
        "due_on": invoice.due_on.isoformat() if invoice else None,
        "amount_paid": _money(b.amount_paid),
        "balance_due": _money(b.balance_due),
        "overdue": bool(b.overdue),
        "credit_note_number": credit_note.number if credit_note else None,
        "replaces_id": b.replaces_id,
        "replaced_by_id": replaced_by.pk if replaced_by else None,
        "created_at": iso_datetime(b.created_at),
        "updated_at": iso_datetime(b.updated_at),
    }


def bill_list_rows(bills: Iterable[Bill]) -> list[dict]:
    """Each bill as BillSerializer gives it (a dict in BillSerializer.Meta.fields' order): the
    bills as bill_list() reads them (customer, invoice, credit note and replacement joined,
    current usage and terms annotated), so no row costs a query. Amounts are strings with
    their places, dates ISO 8601, as in the rest of the API (SPEC "JSON API")."""
    return [
        {
            **bill_summary_row(b),
            "usage_changed": bool(b.usage_changed),
            "terms_changed": bool(b.terms_changed),
            "usage_changed_after_sending": bool(b.usage_changed_after_sending),
            "usage_difference": b.usage_difference,
            "computed_at": iso_datetime(b.computed_at),
            "version": b.version,
        }
        for b in bills
    ]
