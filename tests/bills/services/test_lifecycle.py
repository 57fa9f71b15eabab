"""bill_available_actions (what the pages offer) agrees with what the services then allow."""

import pytest

from billing_site.core.errors import DomainError
from bills import services
from bills.models import Bill, Status
from bills.services import bill_available_actions

CALLS = {
    "approve": lambda bill, user: services.bill_approve(bill=bill, user=user),
    "reject": lambda bill, user: services.bill_reject(bill=bill, user=user, comment="No."),
    "revert": lambda bill, user: services.bill_revert(bill=bill, user=user, comment="Undo."),
    "update": lambda bill, user: services.bill_update(bill=bill, user=user, comment="Redo."),
    "send": lambda bill, user: services.bill_send(bill=bill, user=user),
    "void": lambda bill, user: services.bill_void(bill=bill, user=user, comment="Wrong."),
}


def _partly_approved(bill_in, customer, csm):
    bill = bill_in(Status.DRAFT, customer=customer)
    return services.bill_approve(bill=bill, user=csm)


@pytest.mark.parametrize("status", [s.value for s in Status] + ["partly approved"])
@pytest.mark.parametrize("who", ["finance", "sales", "csm", "other_csm"])
@pytest.mark.parametrize("action", list(CALLS))
def test_offered_actions_are_exactly_the_ones_that_succeed(
    bill_in, users, customer, status, who, action
):
    if status == "partly approved":
        customer.require_csm_approval = True
        customer.save()
        bill = _partly_approved(bill_in, customer, users["csm"])
    else:
        bill = bill_in(status, customer=customer)
    user = users[who]
    bill = Bill.objects.select_related("customer").get(pk=bill.pk)
    offered = action in bill_available_actions(bill=bill, user=user)
    try:
        CALLS[action](bill, user)
    except DomainError as error:
        assert error.kind in ("forbidden", "conflict"), error.message
        assert not offered, f"{action} was offered to {who} on a {status} bill: {error.message}"
    else:
        assert offered, f"{action} succeeded for {who} on a {status} bill but was not offered"


def test_a_filled_approval_slot_is_not_offered_again(bill_in, users, customer):
    customer.require_csm_approval = True
    customer.save()
    bill = _partly_approved(bill_in, customer, users["csm"])
    assert "approve" not in bill_available_actions(bill=bill, user=users["csm"])
    assert "approve" in bill_available_actions(bill=bill, user=users["sales"])
