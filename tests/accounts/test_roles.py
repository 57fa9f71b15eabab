"""The roles module answers every role for every action of SPEC.md's Roles table."""

import pytest

from accounts.models import Role
from accounts.roles import Perm, approval_slot, can, is_csm_for
from tests.factories import CustomerFactory, UserFactory

FINANCE_ONLY = [
    Perm.RECORD_USAGE,
    Perm.CREATE_BILL,
    Perm.GENERATE_BILLS,
    Perm.UPDATE_BILL,
    Perm.SEND_BILL,
    Perm.VOID_BILL,
    Perm.RECORD_PAYMENT,
]
DECISIONS = [Perm.APPROVE_BILL, Perm.REJECT_BILL, Perm.REVERT_BILL]


class FakeBill:
    def __init__(self, customer):
        self.customer = customer


@pytest.fixture
def people(db):
    csm = UserFactory(name="csm-own", role=Role.CUSTOMER_SUCCESS)
    return {
        "finance": UserFactory(name="fin", role=Role.FINANCE),
        "sales": UserFactory(name="sal", role=Role.SALES),
        "csm": csm,
        "other_csm": UserFactory(name="csm-other", role=Role.CUSTOMER_SUCCESS),
    }


@pytest.fixture
def managed_bill(people):
    return FakeBill(CustomerFactory(csm=people["csm"]))


@pytest.fixture
def unmanaged_bill(db):
    return FakeBill(CustomerFactory(csm=None))


@pytest.mark.parametrize("perm", FINANCE_ONLY)
@pytest.mark.parametrize(
    "who, allowed",
    [("finance", True), ("sales", False), ("csm", False), ("other_csm", False)],
)
def test_only_finance_records_usage_and_creates_corrects_sends_voids(
    people, managed_bill, perm, who, allowed
):
    assert can(people[who], perm, managed_bill) is allowed
    assert can(people[who], perm) is allowed


@pytest.mark.parametrize("perm", DECISIONS)
@pytest.mark.parametrize(
    "who, allowed",
    [("finance", False), ("sales", True), ("csm", True), ("other_csm", False)],
)
def test_sales_and_the_customers_own_csm_decide(people, managed_bill, perm, who, allowed):
    assert can(people[who], perm, managed_bill) is allowed


@pytest.mark.parametrize("perm", DECISIONS)
@pytest.mark.parametrize(
    "who, allowed",
    [("finance", False), ("sales", True), ("csm", True), ("other_csm", True)],
)
def test_any_cs_user_stands_in_for_a_customer_without_csm(
    people, unmanaged_bill, perm, who, allowed
):
    assert can(people[who], perm, unmanaged_bill) is allowed


@pytest.mark.parametrize("perm", list(Perm))
def test_anonymous_and_inactive_users_may_do_nothing(people, managed_bill, perm):
    from django.contrib.auth.models import AnonymousUser

    assert can(None, perm, managed_bill) is False
    assert can(AnonymousUser(), perm, managed_bill) is False
    sales = people["sales"]
    sales.is_active = False
    finance = people["finance"]
    finance.is_active = False
    assert can(sales, perm, managed_bill) is False
    assert can(finance, perm, managed_bill) is False


def test_is_csm_for_only_the_customers_csm(people, managed_bill):
    assert is_csm_for(people["csm"], managed_bill.customer)
    assert not is_csm_for(people["other_csm"], managed_bill.customer)
    assert not is_csm_for(people["sales"], managed_bill.customer)


def test_approval_slot_follows_the_role(people):
    assert approval_slot(people["sales"]) == "sales"
    assert approval_slot(people["csm"]) == "csm"
    assert approval_slot(people["finance"]) is None


def test_unknown_permission_is_refused_loudly(people):
    with pytest.raises(ValueError):
        can(people["finance"], "delete_everything")
