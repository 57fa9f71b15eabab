"""Stale inputs never go out: a bill computed from older usage is neither approved nor sent until
it is recomputed, a sent bill whose usage changed afterwards stays flagged until it is voided and
re-billed or the change is dismissed, and "last computed" moves only when amounts are computed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing_site.core.errors import DomainError
from bills.models import Action, Status
from bills.services import (
    bill_approve,
    bill_dismiss_usage_change,
    bill_rebill,
    bill_send,
    bill_update,
    bill_void,
)
from tests.factories import MONTH, YEAR
from usage.models import Usage


def _usage_now(bill, api_usage: int) -> None:
    Usage.objects.filter(customer=bill.customer, year=YEAR, month=MONTH).update(api_usage=api_usage)


@pytest.mark.parametrize(
    ("state", "action"), [(Status.DRAFT, "approve"), (Status.APPROVED, "send")]
)
def test_a_bill_computed_from_older_usage_is_not_approved_or_sent(
    state, action, bill_in, sales, finance
):
    bill = bill_in(state, api_usage=1_400_000)
    _usage_now(bill, 1_600_000)
    history = bill.actions.count()
    with pytest.raises(DomainError) as caught:
        if action == "approve":
            bill_approve(bill=bill, user=sales)
        else:
            bill_send(bill=bill, user=finance)
    assert caught.value.kind == "conflict"
    assert "recompute first" in caught.value.message
    assert "1,400,000" in caught.value.message and "1,600,000" in caught.value.message
    bill.refresh_from_db()
    assert (bill.status, bill.actions.count()) == (state, history)


@pytest.mark.parametrize("client_kind", ["api", "page"])
def test_the_api_and_the_pages_answer_409_recompute_first(
    client_kind, bill_in, finance, api_as, page_as
):
    bill = bill_in(Status.APPROVED, api_usage=1_400_000)
    _usage_now(bill, 1_600_000)
    if client_kind == "api":
        response = api_as(finance).patch(f"/api/bills/{bill.pk}/send", {}, format="json")
        assert response.status_code == 409
        assert "recompute first" in response.json()["detail"]
    else:
        response = page_as(finance).post(
            f"/bills/{bill.pk}/send", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="bill"
        )
        assert response.status_code == 409
        assert "recompute first" in response.content.decode()


def test_finance_recomputes_an_approved_bill_whose_usage_changed(bill_in, finance):
    bill = bill_in(Status.APPROVED, api_usage=1_400_000)
    _usage_now(bill, 1_600_000)
    bill = bill_update(bill=bill, user=finance, comment="Late usage from the gateway.")
    assert bill.status == Status.DRAFT
    assert (bill.api_usage, bill.overage_amount) == (1_600_000, Decimal("1500.00"))
    assert bill.sales_approved_by is None and bill.approvals_given == 0
    row = bill.actions.last()
    assert (row.action, row.from_status, row.to_status) == (
        Action.UPDATED,
        Status.APPROVED,
        Status.DRAFT,
    )
    assert row.changes["reason"] == "usage changed after approval"
    assert row.changes["approvals_cleared"] == 1
    assert row.changes["api_usage"] == [1_400_000, 1_600_000]


def test_an_approved_bill_with_unchanged_usage_is_not_updated(bill_in, finance):
    bill = bill_in(Status.APPROVED)
    with pytest.raises(DomainError) as caught:
        bill_update(bill=bill, user=finance, comment="Just because.")
    assert caught.value.kind == "conflict"


def test_a_sent_bill_whose_usage_changes_stays_flagged_until_dismissed(bill_in, finance):
    bill = bill_in(Status.SENT, api_usage=1_400_000)
    assert not bill.usage_changed_after_sending
    _usage_now(bill, 1_600_000)
    bill.refresh_from_db()
    assert bill.usage_changed_after_sending and not bill.usage_changed
    assert bill.usage_difference == 200_000
    bill = bill_dismiss_usage_change(bill=bill, user=finance, comment="Agreed as invoiced.")
    assert not bill.usage_changed_after_sending and bill.status == Status.SENT
    row = bill.actions.last()
    assert (row.action, row.from_status, row.to_status, row.comment) == (
        Action.FLAG_DISMISSED,
        Status.SENT,
        Status.SENT,
        "Agreed as invoiced.",
    )
    assert row.changes == {"api_usage": [1_400_000, 1_600_000]}
    _usage_now(bill, 1_700_000)  # a further change flags it again
    bill.refresh_from_db()
    assert bill.usage_changed_after_sending


def test_nothing_to_dismiss_is_a_409_and_a_comment_is_required(bill_in, finance):
    bill = bill_in(Status.SENT)
    with pytest.raises(DomainError) as caught:
        bill_dismiss_usage_change(bill=bill, user=finance, comment="Why not.")
    assert caught.value.kind == "conflict"
    _usage_now(bill, 1_900_000)
    with pytest.raises(DomainError) as caught:
        bill_dismiss_usage_change(bill=bill, user=finance, comment=" ")
    assert caught.value.errors == {
        "comment": ["A comment is required to dismiss the usage change."]
    }


def test_void_and_rebill_bills_the_changed_usage(bill_in, finance):
    bill = bill_in(Status.SENT, api_usage=1_400_000)
    _usage_now(bill, 1_600_000)
    bill = bill_void(bill=bill, user=finance, comment="Usage was late.")
    assert not bill.usage_changed_after_sending
    new = bill_rebill(bill=bill, user=finance)
    assert (new.api_usage, new.overage_amount) == (1_600_000, Decimal("1500.00"))


def test_last_computed_moves_only_when_the_amounts_are_computed(bill_in, finance, sales):
    bill = bill_in(Status.DRAFT)
    computed = bill.computed_at
    bill = bill_approve(bill=bill, user=sales)
    bill.refresh_from_db()
    assert bill.computed_at == computed and bill.updated_at > computed
    bill = bill_in(Status.REJECTED)
    before = bill.computed_at
    bill = bill_update(bill=bill, user=finance, comment="Price agreed.", overage_unit_cost="0.002")
    assert bill.computed_at > before


def test_the_api_shows_the_flags_and_last_computed(bill_in, finance, api_as):
    bill = bill_in(Status.SENT, api_usage=1_400_000)
    _usage_now(bill, 1_300_000)
    body = api_as(finance).get(f"/api/bills/{bill.pk}").json()
    assert body["usage_changed_after_sending"] is True
    assert body["usage_changed"] is False
    assert body["usage_difference"] == -100_000
    assert body["computed_at"]
    response = api_as(finance).patch(
        f"/api/bills/{bill.pk}/dismiss", {"comment": "Credit next month."}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["usage_changed_after_sending"] is False


def test_the_bill_page_shows_the_difference_in_calls_and_money(bill_in, finance, page_as):
    bill = bill_in(Status.SENT, api_usage=1_400_000)  # 400,000 over at 0.0025: 1,000.00
    _usage_now(bill, 1_600_000)  # 600,000 over: 1,500.00
    html = page_as(finance).get(f"/bills/{bill.pk}").content.decode()
    assert "Usage changed after sending." in html
    assert "+200,000 calls" in html and "+USD\xa0500.00" in html
    assert ">Dismiss</button>" in html
