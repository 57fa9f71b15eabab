"""What a crafted form post can carry (a NUL byte from "%00", a price past any column) is an error
the person can read, never a 500 page: the bill buttons hand the services what was posted."""

from __future__ import annotations

import pytest

from bills.models import BillAction, Status
from bills.services import bill_approve, bill_reject, bill_send
from tests.pages.conftest import htmx

pytestmark = pytest.mark.django_db

NUL_COMMENT = {"comment": "looks\x00fine"}


@pytest.mark.parametrize("action", ["approve", "reject", "update"])
def test_a_nul_byte_in_a_comment_is_refused_not_a_500(action, as_user, bill, sales, finance):
    user = finance if action == "update" else sales
    response = as_user(user).post(f"/bills/{bill.pk}/{action}", NUL_COMMENT, **htmx("bill"))
    assert response.status_code == 400
    assert "null characters" in response.content.decode()
    bill.refresh_from_db()
    assert bill.status == Status.DRAFT
    assert not BillAction.objects.filter(comment__startswith="looks").exists()


def test_a_nul_byte_in_an_undo_comment_is_refused_not_a_500(as_user, bill, sales):
    bill_reject(bill=bill, user=sales, comment="Not this month.")
    response = as_user(sales).post(f"/bills/{bill.pk}/revert", NUL_COMMENT)
    assert response.status_code == 302  # back to the bill, with the message
    bill.refresh_from_db()
    assert bill.status == Status.REJECTED


def test_a_nul_byte_in_a_void_comment_is_refused_not_a_500(as_user, bill, sales, finance):
    bill_send(bill=bill_approve(bill=bill, user=sales), user=finance)
    response = as_user(finance).post(
        f"/bills/{bill.pk}/void", NUL_COMMENT, **htmx(f"bill-row-{bill.pk}")
    )
    assert response.status_code == 400
    bill.refresh_from_db()
    assert bill.status == Status.SENT


@pytest.mark.parametrize("cost", ["1e400", "1" + "0" * 40, "100000000000000000000000"])
def test_repricing_with_a_huge_unit_cost_is_a_field_error_not_a_500(as_user, bill, finance, cost):
    data = {"intent": "reprice", "comment": "New price", "overage_unit_cost": cost}
    response = as_user(finance).post(f"/bills/{bill.pk}/update", data, **htmx("bill"))
    assert response.status_code == 400
    assert "too large" in response.content.decode()
    bill.refresh_from_db()
    assert bill.actions.count() == 1  # created, nothing else
