"""Bills in every status, made through the real services so their history is real."""

from __future__ import annotations

import pytest

from accounts.models import Role
from bills.models import Bill, Status
from bills.services import bill_approve, bill_reject, bill_send, bill_void
from tests.factories import CustomerFactory, UserFactory, make_bill

# A month that has ended, whatever day the tests run on.
YEAR, MONTH = 2025, 3


@pytest.fixture
def cs_user(db):
    """A Customer Success user who manages nobody; stands in as CSM where a customer has none."""
    return UserFactory(name="cody", role=Role.CUSTOMER_SUCCESS)


@pytest.fixture
def unmanaged_customer(db):
    return CustomerFactory(name="Orphan Ltd", csm=None)


@pytest.fixture
def bill_in(finance, sales):
    """bill_in("approved", customer=...) -> a bill of that customer in that status."""

    def make(status: str, *, customer=None, **kwargs) -> Bill:
        bill = make_bill(customer=customer, finance=finance, year=YEAR, month=MONTH, **kwargs)
        if status == Status.DRAFT:
            return bill
        if status == Status.REJECTED:
            return bill_reject(bill=bill, user=sales, comment="Not this month.")
        bill = bill_approve(bill=bill, user=sales)
        assert bill.status == Status.APPROVED, "bill_in() needs a one-approval customer"
        if status == Status.APPROVED:
            return bill
        bill = bill_send(bill=bill, user=finance)
        if status == Status.SENT:
            return bill
        assert status == Status.VOID, status
        return bill_void(bill=bill, user=finance, comment="Sent to the wrong address.")

    return make
