"""Four eyes (SPEC "Approvals": the two approvals of a bill come from two different people),
whatever the person's role is by the time they approve again (issue 13)."""

import pytest

from accounts.models import Role
from billing_site.core.errors import DomainError
from bills.models import BillAction, Status
from bills.services import bill_approve, lifecycle
from tests.factories import CustomerFactory, UserFactory, make_bill

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("first_role", "then_role"),
    [(Role.CUSTOMER_SUCCESS, Role.SALES), (Role.SALES, Role.CUSTOMER_SUCCESS)],
)
def test_one_person_cannot_give_both_approvals_after_a_role_change(finance, first_role, then_role):
    person = UserFactory(name="switcher", role=first_role)
    customer = CustomerFactory(
        name="Two-step",
        require_csm_approval=True,
        csm=person if first_role == Role.CUSTOMER_SUCCESS else None,
    )
    bill = make_bill(customer=customer, finance=finance)
    bill_approve(bill=bill, user=person)
    person.role = then_role  # an admin changes their role
    person.save()
    if then_role == Role.CUSTOMER_SUCCESS:
        customer.csm = person
        customer.save()
    bill.refresh_from_db()
    assert "approve" not in lifecycle.bill_available_actions(bill=bill, user=person)

    with pytest.raises(DomainError) as refused:
        bill_approve(bill=bill, user=person)
    assert refused.value.kind == "conflict"
    assert "two different people" in refused.value.message
    bill.refresh_from_db()
    assert bill.status == Status.DRAFT
    assert BillAction.objects.filter(bill=bill, action="approved").count() == 1


def test_two_people_complete_the_bill(finance):
    cs = UserFactory(name="cs-one", role=Role.CUSTOMER_SUCCESS)
    sales = UserFactory(name="sales-one", role=Role.SALES)
    customer = CustomerFactory(name="Two-step", require_csm_approval=True, csm=cs)
    bill = make_bill(customer=customer, finance=finance)
    bill_approve(bill=bill, user=cs)
    assert bill_approve(bill=bill, user=sales).status == Status.APPROVED
