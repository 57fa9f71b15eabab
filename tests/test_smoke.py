from decimal import Decimal

from bills.models import Action, Status
from bills.services import bill_approve
from tests.factories import make_bill


def test_it_creates_and_approves_a_bill_with_history(customer, sales, finance):
    bill = make_bill(customer=customer, finance=finance, api_usage=1_000_401)
    assert bill.overage_units == 401
    assert bill.overage_amount == Decimal("1.00")  # 401 * 0.0025 = 1.0025 -> 1.00
    bill = bill_approve(bill=bill, user=sales)
    assert bill.status == Status.APPROVED
    assert [a.action for a in bill.actions.all()] == [Action.CREATED, Action.APPROVED]
