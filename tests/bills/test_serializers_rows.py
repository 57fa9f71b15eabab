"""bills.serializers_rows.bill_list_rows gives exactly what BillSerializer gives, for bills in
every state a list shows: the fast list rows of GET /api/bills (issue 14) cannot drift from
the serializer the OpenAPI document is made from."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from rest_framework.renderers import JSONRenderer

from billing_site.core import periods
from bills.models import Invoice
from bills.selectors import bill_list
from bills.serializers import BillSerializer
from bills.serializers_rows import bill_list_rows
from bills.services import (
    bill_approve,
    bill_rebill,
    bill_reject,
    bill_send,
    bill_void,
    payment_record,
)
from customers.services import customer_terms_set
from tests.factories import make_bill
from usage.models import Usage


def _same_json(rows) -> list:
    return json.loads(JSONRenderer().render(rows))


@pytest.fixture
def bills_in_every_state(finance, sales):
    year, month = periods.last_ended_month()
    py, pm = periods.previous_month(year, month)
    draft = make_bill(finance=finance, api_usage=1_234_567)
    Usage.objects.filter(customer=draft.customer, year=year, month=month).update(
        api_usage=1_300_000
    )  # usage changed since
    bill_approve(bill=make_bill(finance=finance), user=sales)
    bill_reject(bill=make_bill(finance=finance), user=sales, comment="waived")
    sent = bill_send(bill=bill_approve(bill=make_bill(finance=finance), user=sales), user=finance)
    partly = bill_send(bill=bill_approve(bill=make_bill(finance=finance), user=sales), user=finance)
    payment_record(bill=partly, user=finance, date=periods.today(), amount="100.01", reference="w1")
    paid = bill_send(bill=bill_approve(bill=make_bill(finance=finance), user=sales), user=finance)
    payment_record(
        bill=paid, user=finance, date=periods.today(), amount=paid.overage_amount, reference="w2"
    )
    Invoice.objects.filter(bill=sent).update(due_on=periods.today() - timedelta(days=3))
    void = bill_send(bill=bill_approve(bill=make_bill(finance=finance), user=sales), user=finance)
    void = bill_void(bill=void, user=finance, comment="wrong")
    Usage.objects.filter(customer=void.customer, year=year, month=month).update(api_usage=1_600_000)
    bill_rebill(bill=void, user=finance)
    flagged = bill_send(
        bill=bill_approve(bill=make_bill(finance=finance), user=sales), user=finance
    )
    Usage.objects.filter(customer=flagged.customer, year=year, month=month).update(
        api_usage=2_000_000
    )  # usage changed after sending
    repriced = make_bill(finance=finance, year=py, month=pm, api_usage=1_000_400)
    customer_terms_set(
        customer=repriced.customer,
        effective_year=py,
        effective_month=pm,
        monthly_api_limit=500_000,
        overage_unit_cost=Decimal("0.001234"),
        require_csm_approval=True,
        user=finance,
    )  # terms changed since


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_the_fast_rows_are_the_serializers_rows(bills_in_every_state, zone):
    with override_settings(TIME_ZONE=zone):
        bills = list(bill_list())
        fast = _same_json(bill_list_rows(bills))
        reference = _same_json(BillSerializer(bills, many=True).data)
    assert len(fast) == 10
    assert [list(row) for row in fast] == [list(row) for row in reference]  # keys, in order
    assert fast == reference
    # The states are there, so the comparison covered them.
    flags = {
        (r["status"], r["usage_changed"], r["terms_changed"], r["usage_changed_after_sending"],
         r["overdue"], r["credit_note_number"] is not None, r["replaces_id"] is not None)
        for r in fast
    }  # fmt: skip
    assert ("draft", True, False, False, False, False, False) in flags
    assert ("draft", False, True, False, False, False, False) in flags
    assert ("sent", False, False, False, True, False, False) in flags
    assert ("sent", False, False, True, False, False, False) in flags
    assert ("void", False, False, False, False, True, False) in flags
    assert ("draft", False, False, False, False, False, True) in flags
    assert {r["status"] for r in fast} >= {"approved", "rejected", "paid", "sent", "void"}
    assert {r["balance_due"] for r in fast if r["status"] == "sent"} >= {"1149.99"}
