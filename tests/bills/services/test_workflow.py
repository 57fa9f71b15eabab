"""Every row of SPEC.md's lifecycle table, for every role: allowed, forbidden or wrong status; and
a bill taken from creation to approval with its history."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from billing_site.core.errors import DomainError
from bills.models import Action, Bill, BillAction, Status
from bills.services import (
    bill_approve,
    bill_create,
    bill_generate,
    bill_reject,
    bill_revert,
    bill_send,
    bill_update,
    bill_void,
)
from tests.factories import MONTH, YEAR, UsageFactory, make_bill

ACTORS = ["finance", "sales", "csm", "other_csm", "cs_on_customer_without_csm"]
FINANCE = {"finance"}
DECIDERS = {"sales", "csm", "cs_on_customer_without_csm"}


@dataclass(frozen=True)
class Row:
    """One row of the lifecycle table."""

    name: str
    allowed: set[str]
    from_statuses: tuple[str, ...]  # empty: the action makes a new bill
    to_status: str

    def __call__(self, *, bill: Bill | None, customer, user) -> Any:
        if self.name == "create":
            return bill_create(customer_id=customer.pk, year=YEAR, month=MONTH, user=user)
        if self.name == "generate":
            return bill_generate(year=YEAR, month=MONTH, user=user)
        if self.name == "approve":
            return bill_approve(bill=bill, user=user)
        if self.name == "reject":
            return bill_reject(bill=bill, user=user, comment="Usage spike was our fault.")
        if self.name == "revert":
            return bill_revert(bill=bill, user=user, comment="Decided too early.")
        if self.name == "update":
            return bill_update(
                bill=bill, user=user, comment="Agreed price.", overage_unit_cost="0.002"
            )
        if self.name == "send":
            return bill_send(bill=bill, user=user)
        if self.name == "void":
            return bill_void(bill=bill, user=user, comment="Wrong legal entity.")
        raise AssertionError(self.name)


TABLE = [
    Row("create", FINANCE, (), Status.DRAFT),
    Row("generate", FINANCE, (), Status.DRAFT),
    Row("approve", DECIDERS, (Status.DRAFT,), Status.APPROVED),
    Row("reject", DECIDERS, (Status.DRAFT,), Status.REJECTED),
    Row("revert", DECIDERS, (Status.APPROVED, Status.REJECTED), Status.DRAFT),
    Row("update", FINANCE, (Status.DRAFT, Status.REJECTED), Status.DRAFT),
    Row("send", FINANCE, (Status.APPROVED,), Status.SENT),
    Row("void", FINANCE, (Status.SENT,), Status.VOID),
]
ON_A_BILL = [row for row in TABLE if row.from_statuses]


@pytest.fixture
def actor(request, users, cs_user, customer, unmanaged_customer):
    """(column name, user, the customer whose bill they act on) for each column of the matrix."""
    if request.param == "cs_on_customer_without_csm":
        return request.param, cs_user, unmanaged_customer
    return request.param, users[request.param], customer


def _snapshot(bill: Bill) -> tuple:
    bill.refresh_from_db()
    return bill.status, bill.csm_approved_by_id, bill.sales_approved_by_id, bill.actions.count()


@pytest.mark.parametrize("actor", ACTORS, indirect=True)
@pytest.mark.parametrize("row", TABLE, ids=lambda row: row.name)
def test_each_action_is_allowed_exactly_for_the_roles_in_the_table(row, actor, bill_in):
    actor_name, user, customer = actor
    if row.from_statuses:
        bill = bill_in(row.from_statuses[0], customer=customer)
    else:
        bill = None
        UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=1_500_000)
    before = _snapshot(bill) if bill else None

    if actor_name in row.allowed:
        row(bill=bill, customer=customer, user=user)
        made = Bill.objects.get(customer=customer, year=YEAR, month=MONTH)
        assert made.status == row.to_status
        last = made.actions.order_by("-id").first()
        assert last.stakeholder == user
        assert last.to_status == row.to_status
    else:
        with pytest.raises(DomainError) as caught:
            row(bill=bill, customer=customer, user=user)
        assert caught.value.kind == "forbidden", caught.value.message
        if bill:
            assert _snapshot(bill) == before
        else:
            assert not Bill.objects.exists()
            assert not BillAction.objects.exists()


WRONG_STATUS = [
    (row, status)
    for row in ON_A_BILL
    for status in (Status.DRAFT, Status.APPROVED, Status.REJECTED, Status.SENT, Status.VOID)
    if status not in row.from_statuses
]


@pytest.mark.parametrize(
    ("row", "status"), WRONG_STATUS, ids=[f"{r.name}-from-{s}" for r, s in WRONG_STATUS]
)
def test_an_allowed_role_gets_a_conflict_in_the_wrong_status(row, status, bill_in, customer, users):
    bill = bill_in(status, customer=customer)
    before = _snapshot(bill)
    user = users["finance"] if row.allowed == FINANCE else users["sales"]
    with pytest.raises(DomainError) as caught:
        row(bill=bill, customer=customer, user=user)
    assert caught.value.kind == "conflict", caught.value.message
    assert _snapshot(bill) == before


def test_csm_of_another_customer_cannot_approve(bill_in, customer, other_csm):
    bill = bill_in(Status.DRAFT, customer=customer)
    with pytest.raises(DomainError) as caught:
        bill_approve(bill=bill, user=other_csm)
    assert caught.value.kind == "forbidden"
    bill.refresh_from_db()
    assert bill.status == Status.DRAFT
    assert bill.csm_approved_by is None


def test_finance_cannot_approve_its_own_bill(bill_in, customer, finance):
    bill = bill_in(Status.DRAFT, customer=customer)
    with pytest.raises(DomainError) as caught:
        bill_approve(bill=bill, user=finance)
    assert caught.value.kind == "forbidden"


def test_a_deactivated_sales_user_cannot_approve(bill_in, customer, sales):
    bill = bill_in(Status.DRAFT, customer=customer)
    sales.is_active = False
    sales.save()
    with pytest.raises(DomainError) as caught:
        bill_approve(bill=bill, user=sales)
    assert caught.value.kind == "forbidden"


def test_a_missing_bill_is_not_found(sales):
    with pytest.raises(DomainError) as caught:
        bill_approve(bill=987654, user=sales)
    assert caught.value.kind == "not_found"


@pytest.mark.parametrize(
    ("action", "status"),
    [
        (lambda bill, user: bill_reject(bill=bill, user=user, comment="  "), Status.DRAFT),
        (lambda bill, user: bill_revert(bill=bill, user=user, comment=""), Status.APPROVED),
    ],
    ids=["reject", "revert"],
)
def test_decisions_that_need_a_comment_refuse_a_blank_one(action, status, bill_in, sales):
    bill = bill_in(status)
    before = _snapshot(bill)
    with pytest.raises(DomainError) as caught:
        action(bill, sales)
    assert caught.value.kind == "invalid"
    assert "comment" in caught.value.errors
    assert _snapshot(bill) == before


@pytest.mark.parametrize(
    ("action", "status"),
    [
        (lambda bill, user: bill_update(bill=bill, user=user, comment=""), Status.DRAFT),
        (lambda bill, user: bill_void(bill=bill, user=user, comment=" "), Status.SENT),
    ],
    ids=["update", "void"],
)
def test_corrections_that_need_a_comment_refuse_a_blank_one(action, status, bill_in, finance):
    bill = bill_in(status)
    before = _snapshot(bill)
    with pytest.raises(DomainError) as caught:
        action(bill, finance)
    assert caught.value.kind == "invalid"
    assert "comment" in caught.value.errors
    assert _snapshot(bill) == before


def test_it_creates_and_approves_a_bill_with_history(customer, sales, finance):
    bill = make_bill(customer=customer, finance=finance, api_usage=1_000_401)
    assert bill.overage_units == 401
    assert bill.overage_amount == Decimal("1.00")  # 401 * 0.0025 = 1.0025 -> 1.00
    bill = bill_approve(bill=bill, user=sales)
    assert bill.status == Status.APPROVED
    assert [a.action for a in bill.actions.all()] == [Action.CREATED, Action.APPROVED]
