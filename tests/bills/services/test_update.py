"""Correcting a bill (update), voiding and re-billing, and noticing usage that changed later."""

from decimal import Decimal

import pytest

from billing_site.core.errors import DomainError
from bills.models import Action, Bill, Status
from bills.selectors import bill_get, bill_list
from bills.services import bill_approve, bill_create, bill_update, bill_void
from customers.models import Customer
from tests.factories import MONTH, YEAR
from usage.models import Usage
from usage.services import usage_record


@pytest.fixture
def two_approval_customer(customer):
    customer.require_csm_approval = True
    customer.save()
    return customer


def _set_usage(customer, api_usage, finance):
    usage_record(customer=customer, year=YEAR, month=MONTH, api_usage=api_usage, user=finance)


# --- update --------------------------------------------------------------------------------


def test_update_recomputes_from_changed_usage_and_records_the_changes(bill_in, customer, finance):
    bill = bill_in(Status.DRAFT, customer=customer, api_usage=1_500_000)
    _set_usage(customer, 1_234_567, finance)
    bill = bill_update(bill=bill, user=finance, comment="Late usage correction from the gateway.")
    assert (bill.api_usage, bill.overage_units) == (1_234_567, 234_567)
    assert bill.overage_amount == Decimal("586.42")
    action = bill.actions.last()
    assert (action.action, action.stakeholder, action.from_status, action.to_status) == (
        Action.UPDATED,
        finance,
        Status.DRAFT,
        Status.DRAFT,
    )
    assert action.comment == "Late usage correction from the gateway."
    assert action.changes == {
        "api_usage": [1_500_000, 1_234_567],
        "overage_units": [500_000, 234_567],
        "overage_amount": ["1250.00", "586.42"],
    }


def test_update_picks_up_a_changed_limit_and_policy(bill_in, customer, finance):
    bill = bill_in(Status.DRAFT, customer=customer, api_usage=1_500_000)
    customer.monthly_api_limit = 1_400_000
    customer.require_csm_approval = True
    customer.save()
    bill = bill_update(bill=bill, user=finance, comment="Contract amendment.")
    assert (bill.monthly_api_limit, bill.overage_units) == (1_400_000, 100_000)
    assert bill.requires_csm_approval is True
    assert bill.actions.last().changes["requires_csm_approval"] == [False, True]


def test_update_reprices_the_bill_with_a_new_unit_cost(bill_in, customer, finance):
    bill = bill_in(Status.DRAFT, customer=customer, api_usage=1_000_003)
    bill = bill_update(
        bill=bill, user=finance, comment="Negotiated price.", overage_unit_cost="0.0065"
    )
    assert bill.overage_unit_cost == Decimal("0.0065")
    assert bill.overage_amount == Decimal("0.02")  # 3 x 0.0065 = 0.0195 rounds up
    assert bill.actions.last().changes == {
        "overage_unit_cost": ["0.002500", "0.006500"],
        "overage_amount": ["0.01", "0.02"],
    }
    customer.refresh_from_db()
    assert customer.overage_unit_cost == Decimal("0.0025"), "only this bill is repriced"


def test_update_refuses_a_float_unit_cost(bill_in, finance):
    bill = bill_in(Status.DRAFT)
    with pytest.raises(DomainError) as caught:
        bill_update(bill=bill, user=finance, comment="Price.", overage_unit_cost=0.1)
    assert caught.value.kind == "invalid"
    assert bill.actions.count() == 1


def test_update_clears_earlier_approvals(bill_in, two_approval_customer, finance, csm, sales):
    bill = bill_in(Status.DRAFT, customer=two_approval_customer)
    bill = bill_approve(bill=bill, user=csm)
    bill = bill_update(bill=bill, user=finance, comment="Recount.", overage_unit_cost="0.003")
    assert bill.status == Status.DRAFT
    assert bill.csm_approved_by is None
    assert bill.approvals_needed == 2
    assert bill.actions.last().changes["approvals_cleared"] == 1
    # The earlier CSM approval no longer counts.
    assert bill_approve(bill=bill, user=sales).status == Status.DRAFT


def test_update_returns_a_rejected_bill_to_draft(bill_in, customer, finance, sales):
    bill = bill_in(Status.REJECTED, customer=customer)
    bill = bill_update(
        bill=bill, user=finance, comment="Repriced as agreed.", overage_unit_cost="0.001"
    )
    assert bill.status == Status.DRAFT
    last = bill.actions.last()
    assert (last.from_status, last.to_status) == (Status.REJECTED, Status.DRAFT)
    assert bill_approve(bill=bill, user=sales).status == Status.APPROVED


def test_update_refuses_when_no_overage_is_left(bill_in, customer, finance):
    bill = bill_in(Status.DRAFT, customer=customer, api_usage=1_500_000)
    _set_usage(customer, 900_000, finance)
    with pytest.raises(DomainError) as caught:
        bill_update(bill=bill, user=finance, comment="Usage was double counted.")
    assert caught.value.kind == "invalid"
    assert "no overage" in caught.value.message
    bill.refresh_from_db()
    assert (bill.api_usage, bill.status, bill.actions.count()) == (1_500_000, Status.DRAFT, 1)


# --- void and re-bill ----------------------------------------------------------------------


def test_a_voided_customer_month_can_be_billed_again(bill_in, customer, finance):
    voided = bill_in(Status.VOID, customer=customer)
    _set_usage(customer, 2_000_000, finance)
    again = bill_create(customer_id=customer.pk, year=YEAR, month=MONTH, user=finance)
    assert again.pk != voided.pk
    assert (again.status, again.api_usage) == (Status.DRAFT, 2_000_000)
    voided.refresh_from_db()
    assert voided.status == Status.VOID
    assert Bill.objects.filter(customer=customer, year=YEAR, month=MONTH).count() == 2


def test_voiding_records_who_and_why(bill_in, finance):
    bill = bill_in(Status.SENT)
    bill = bill_void(bill=bill, user=finance, comment="Billed the parent company instead.")
    last = bill.actions.get(action=Action.VOIDED)
    assert (last.action, last.stakeholder, last.from_status, last.to_status, last.comment) == (
        Action.VOIDED,
        finance,
        Status.SENT,
        Status.VOID,
        "Billed the parent company instead.",
    )


@pytest.mark.parametrize("status", [Status.DRAFT, Status.APPROVED, Status.SENT])
def test_a_live_bill_blocks_billing_the_month_again(status, bill_in, customer, finance):
    bill_in(status, customer=customer)
    with pytest.raises(DomainError) as caught:
        bill_create(customer_id=customer.pk, year=YEAR, month=MONTH, user=finance)
    assert caught.value.kind == "conflict"
    assert Bill.objects.filter(customer=customer).count() == 1


# --- stale detection -----------------------------------------------------------------------


def test_usage_changed_is_false_for_a_fresh_bill(bill_in):
    bill = bill_in(Status.DRAFT)
    assert bill.usage_changed is False
    assert bill_get(bill.pk).usage_changed is False


@pytest.mark.parametrize("status", [Status.DRAFT, Status.APPROVED, Status.REJECTED])
def test_usage_changed_once_the_months_usage_changes(status, bill_in, customer, finance):
    bill = bill_in(status, customer=customer, api_usage=1_500_000)
    _set_usage(customer, 1_600_000, finance)
    bill.refresh_from_db()
    assert bill.usage_changed is True
    # The selectors annotate the current usage so lists do not query per row.
    assert bill_get(bill.pk).usage_changed is True
    assert [b.usage_changed for b in bill_list().filter(customer=customer)] == [True]


def test_usage_changed_when_the_usage_row_is_deleted(bill_in, customer):
    bill = bill_in(Status.DRAFT, customer=customer)
    Usage.objects.filter(customer=customer).delete()
    assert bill.usage_changed is True


def test_usage_changed_is_false_after_update(bill_in, customer, finance):
    bill = bill_in(Status.DRAFT, customer=customer, api_usage=1_500_000)
    _set_usage(customer, 1_600_000, finance)
    bill = bill_update(bill=bill, user=finance, comment="Recount.")
    assert bill.usage_changed is False
    assert bill_get(bill.pk).usage_changed is False


@pytest.mark.parametrize("status", [Status.SENT, Status.VOID])
def test_usage_changed_is_false_for_sent_and_void_bills(status, bill_in, customer, finance):
    bill = bill_in(status, customer=customer, api_usage=1_500_000)
    _set_usage(customer, 1_600_000, finance)
    assert bill.usage_changed is False
    assert bill_get(bill.pk).usage_changed is False


def test_a_reprice_to_an_amount_of_0_00_is_refused(finance, bill_in):
    bill = bill_in(Status.DRAFT, api_usage=1_000_100)  # 100 calls over the limit
    with pytest.raises(DomainError) as caught:
        bill_update(bill=bill, user=finance, comment="Goodwill.", overage_unit_cost="0.00004")
    assert caught.value.kind == "invalid"
    assert "0.00" in caught.value.errors["overage_unit_cost"][0]
    bill.refresh_from_db()
    assert bill.overage_amount == Decimal("0.25")


def test_a_recompute_to_an_amount_of_0_00_is_refused(finance, bill_in):
    bill = bill_in(Status.DRAFT, api_usage=1_000_100)
    Customer.objects.filter(pk=bill.customer_id).update(overage_unit_cost=Decimal("0.000001"))
    with pytest.raises(DomainError) as caught:
        bill_update(bill=bill, user=finance, comment="New price list.")
    assert "0.00" in caught.value.errors["comment"][0]


# (billed amount, new unit cost) -> whether the reprice asks to be confirmed: more than ten
# times up or down, or above 1,000,000.00. The bill: 400,000 calls over at 0.0025 = 1,000.00.
REPRICES = [
    ("0.025", False),  # 10,000.00: ten times, not more
    ("0.025001", True),  # 10,000.40: more than ten times
    ("0.00025", False),  # 100.00: a tenth
    ("0.000249", True),  # 99.60: less than a tenth
    ("2.5", True),  # 1,000,000.00 is ten times over too
]


@pytest.mark.parametrize(("cost", "asks"), REPRICES)
def test_a_large_reprice_asks_to_be_confirmed(cost, asks, bill_in, finance):
    bill = bill_in(Status.DRAFT, api_usage=1_400_000)
    if asks:
        with pytest.raises(DomainError) as caught:
            bill_update(bill=bill, user=finance, comment="New price.", overage_unit_cost=cost)
        assert "USD\xa01,000.00" in caught.value.errors["confirm"][0]
        bill.refresh_from_db()
        assert bill.overage_unit_cost == Decimal("0.0025")
    bill = bill_update(
        bill=bill, user=finance, comment="New price.", overage_unit_cost=cost, confirm=asks
    )
    assert bill.overage_unit_cost == Decimal(cost)


def test_a_reprice_above_a_million_asks_to_be_confirmed(bill_in, finance):
    bill = bill_in(Status.DRAFT, api_usage=900_000_000)  # 899,000,000 over: 2,247,500.00
    with pytest.raises(DomainError) as caught:
        bill_update(bill=bill, user=finance, comment="New price.", overage_unit_cost="0.0026")
    assert "USD\xa02,337,400.00" in caught.value.errors["confirm"][0]


def test_the_api_and_the_page_ask_for_the_confirmation(bill_in, finance, api_as, page_as):
    bill = bill_in(Status.DRAFT, api_usage=1_400_000)
    body = {"comment": "New price.", "overage_unit_cost": "0.1"}
    response = api_as(finance).patch(f"/api/bills/{bill.pk}", body, format="json")
    assert response.status_code == 400 and "confirm" in response.json()
    page = page_as(finance).post(
        f"/bills/{bill.pk}/update",
        {**body, "intent": "reprice"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="bill",
    )
    assert page.status_code == 400
    assert 'name="confirm" value="yes"' in page.content.decode()
    response = api_as(finance).patch(
        f"/api/bills/{bill.pk}", {**body, "confirm": True}, format="json"
    )
    assert response.status_code == 200 and response.json()["overage_amount"] == "40000.00"
