"""The approvals a bill needs (require_csm_approval), and undoing decisions."""

import pytest

from accounts.models import Role
from billing_site.core.errors import DomainError
from bills.models import Action, Status
from bills.services import bill_approve, bill_reject, bill_revert
from tests.factories import UserFactory


@pytest.fixture
def two_approval_bill(bill_in, customer):
    customer.require_csm_approval = True
    customer.save()
    return bill_in(Status.DRAFT, customer=customer)


# --- require_csm_approval = false: one approval ------------------------------------------------


def test_one_sales_approval_approves_a_bill(bill_in, customer, sales):
    bill = bill_approve(bill=bill_in(Status.DRAFT, customer=customer), user=sales)
    assert bill.status == Status.APPROVED
    assert bill.sales_approved_by == sales
    assert bill.csm_approved_by is None


def test_one_csm_approval_approves_a_bill(bill_in, customer, csm):
    bill = bill_approve(bill=bill_in(Status.DRAFT, customer=customer), user=csm)
    assert bill.status == Status.APPROVED
    assert bill.csm_approved_by == csm


def test_any_cs_user_approves_for_a_customer_without_csm(bill_in, unmanaged_customer, cs_user):
    bill = bill_approve(bill=bill_in(Status.DRAFT, customer=unmanaged_customer), user=cs_user)
    assert bill.status == Status.APPROVED
    assert bill.csm_approved_by == cs_user


def test_a_second_approval_of_an_approved_bill_is_a_conflict(bill_in, customer, sales, csm):
    bill = bill_approve(bill=bill_in(Status.DRAFT, customer=customer), user=sales)
    with pytest.raises(DomainError) as caught:
        bill_approve(bill=bill, user=csm)
    assert caught.value.kind == "conflict"


# --- require_csm_approval = true: the CSM and Sales, in either order ---------------------------


@pytest.mark.parametrize("first", ["csm", "sales"])
def test_two_approval_bill_needs_csm_and_sales_in_either_order(first, two_approval_bill, users):
    second = "sales" if first == "csm" else "csm"
    bill = bill_approve(bill=two_approval_bill, user=users[first])
    assert bill.status == Status.DRAFT
    assert bill.approvals_needed == 1
    bill = bill_approve(bill=bill, user=users[second])
    assert bill.status == Status.APPROVED
    assert bill.csm_approved_by == users["csm"]
    assert bill.sales_approved_by == users["sales"]
    assert [(a.action, a.from_status, a.to_status) for a in bill.actions.all()][1:] == [
        (Action.APPROVED, Status.DRAFT, Status.DRAFT),
        (Action.APPROVED, Status.DRAFT, Status.APPROVED),
    ]


def test_two_sales_approvals_do_not_approve_a_two_approval_bill(two_approval_bill, sales):
    other_sales = UserFactory(name="sasha", role=Role.SALES)
    bill = bill_approve(bill=two_approval_bill, user=sales)
    with pytest.raises(DomainError) as caught:
        bill_approve(bill=bill, user=other_sales)
    assert caught.value.kind == "conflict"
    bill.refresh_from_db()
    assert bill.status == Status.DRAFT
    assert bill.sales_approved_by == sales
    assert bill.actions.count() == 2


def test_the_same_csm_approving_twice_is_a_conflict(two_approval_bill, csm):
    bill = bill_approve(bill=two_approval_bill, user=csm)
    with pytest.raises(DomainError) as caught:
        bill_approve(bill=bill, user=csm)
    assert caught.value.kind == "conflict"
    bill.refresh_from_db()
    assert bill.status == Status.DRAFT
    assert bill.actions.count() == 2


def test_a_cs_user_stands_in_as_csm_on_a_two_approval_bill_without_csm(
    bill_in, unmanaged_customer, cs_user, sales
):
    unmanaged_customer.require_csm_approval = True
    unmanaged_customer.save()
    bill = bill_approve(bill=bill_in(Status.DRAFT, customer=unmanaged_customer), user=cs_user)
    bill = bill_approve(bill=bill, user=sales)
    assert bill.status == Status.APPROVED


def test_the_policy_is_the_one_in_force_when_the_bill_was_computed(bill_in, customer, sales):
    bill = bill_in(Status.DRAFT, customer=customer)
    customer.require_csm_approval = True
    customer.save()
    assert bill_approve(bill=bill, user=sales).status == Status.APPROVED


def test_a_rejection_after_a_partial_approval_rejects(two_approval_bill, csm, sales):
    bill = bill_approve(bill=two_approval_bill, user=csm)
    bill = bill_reject(bill=bill, user=sales, comment="The spike was a test run.")
    assert bill.status == Status.REJECTED


# --- reverting -----------------------------------------------------------------------------


def test_reverting_an_approval_returns_the_bill_to_draft_without_it(bill_in, customer, sales):
    bill = bill_approve(bill=bill_in(Status.DRAFT, customer=customer), user=sales)
    bill = bill_revert(bill=bill, user=sales, comment="Approved the wrong bill.")
    assert bill.status == Status.DRAFT
    assert bill.sales_approved_by is None
    assert bill.sales_approved_at is None
    assert bill.approvals_needed == 1
    last = bill.actions.last()
    assert (last.action, last.from_status, last.to_status) == (
        Action.REVERTED,
        Status.APPROVED,
        Status.DRAFT,
    )
    assert last.comment == "Approved the wrong bill."
    assert last.changes == {"undone": "sales approval"}
    # The undone approval no longer counts: one new approval is needed, and it approves.
    assert bill_approve(bill=bill, user=sales).status == Status.APPROVED


def test_reverting_a_rejection_returns_the_bill_to_draft(bill_in, customer, csm):
    bill = bill_reject(
        bill=bill_in(Status.DRAFT, customer=customer), user=csm, comment="Test traffic."
    )
    bill = bill_revert(bill=bill, user=csm, comment="It was real traffic after all.")
    assert bill.status == Status.DRAFT
    assert bill.actions.last().changes == {"undone": "rejection"}
    assert bill_approve(bill=bill, user=csm).status == Status.APPROVED


def test_reverting_a_partial_approval_undoes_it(two_approval_bill, csm, sales):
    bill = bill_approve(bill=two_approval_bill, user=csm)
    bill = bill_revert(bill=bill, user=sales, comment="Not reviewed yet.")
    assert bill.status == Status.DRAFT
    assert bill.csm_approved_by is None
    assert bill.approvals_needed == 2
    last = bill.actions.last()
    assert (last.from_status, last.to_status, last.changes) == (
        Status.DRAFT,
        Status.DRAFT,
        {"undone": "csm approval"},
    )
    # The undone CSM approval no longer counts: Sales alone does not approve.
    bill = bill_approve(bill=bill, user=sales)
    assert bill.status == Status.DRAFT


def test_reverting_a_completed_two_approval_bill_undoes_only_the_latest_approval(
    two_approval_bill, csm, sales
):
    bill = bill_approve(bill=two_approval_bill, user=csm)
    bill = bill_approve(bill=bill, user=sales)
    bill = bill_revert(bill=bill, user=csm, comment="Sales approved before the PO arrived.")
    assert bill.status == Status.DRAFT
    assert bill.sales_approved_by is None
    assert bill.csm_approved_by == csm
    assert bill.actions.last().changes == {"undone": "sales approval"}
    assert bill_approve(bill=bill, user=sales).status == Status.APPROVED


def test_a_draft_with_no_decision_has_nothing_to_revert(bill_in, sales):
    bill = bill_in(Status.DRAFT)
    with pytest.raises(DomainError) as caught:
        bill_revert(bill=bill, user=sales, comment="Undo.")
    assert caught.value.kind == "conflict"
    assert bill.actions.count() == 1


def test_csm_of_another_customer_cannot_revert(bill_in, customer, sales, other_csm):
    bill = bill_approve(bill=bill_in(Status.DRAFT, customer=customer), user=sales)
    with pytest.raises(DomainError) as caught:
        bill_revert(bill=bill, user=other_csm, comment="Undo.")
    assert caught.value.kind == "forbidden"
    bill.refresh_from_db()
    assert bill.status == Status.APPROVED
