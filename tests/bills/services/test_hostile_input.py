"""Input the services must refuse with a 400 (DomainError "invalid"), never let reach the database
or the decimal context as a crash: the pages hand the services whatever was posted."""

from __future__ import annotations

import pytest

from billing_site.core.errors import DomainError
from bills.models import Action, BillAction, Status
from bills.services import (
    bill_approve,
    bill_create,
    bill_reject,
    bill_revert,
    bill_update,
    bill_void,
    parse_unit_cost,
)
from tests.factories import MONTH, YEAR
from usage.models import Usage

HOSTILE_COMMENTS = ["before\x00after", "\ud800 lone surrogate", ["a list"], {"an": "object"}]


def _refused(call, field: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.kind == "invalid", caught.value.message
    assert field in caught.value.errors
    return caught.value


@pytest.mark.parametrize("comment", HOSTILE_COMMENTS)
def test_a_comment_postgres_cannot_store_is_a_400_for_every_decision(
    comment, bill_in, sales, finance
):
    draft = bill_in(Status.DRAFT)
    _refused(lambda: bill_approve(bill=draft, user=sales, comment=comment), "comment")
    _refused(lambda: bill_reject(bill=draft, user=sales, comment=comment), "comment")
    _refused(lambda: bill_update(bill=draft, user=finance, comment=comment), "comment")
    rejected = bill_reject(bill=draft, user=sales, comment="Not this month.")
    _refused(lambda: bill_revert(bill=rejected, user=sales, comment=comment), "comment")
    assert not BillAction.objects.filter(comment__contains="after").exists()


@pytest.mark.parametrize("comment", HOSTILE_COMMENTS)
def test_a_comment_postgres_cannot_store_is_a_400_for_void(comment, bill_in, finance):
    sent = bill_in(Status.SENT)
    _refused(lambda: bill_void(bill=sent, user=finance, comment=comment), "comment")
    sent.refresh_from_db()
    assert sent.status == Status.SENT


def test_an_approval_comment_is_limited_like_every_other_comment(bill_in, sales):
    draft = bill_in(Status.DRAFT)
    _refused(lambda: bill_approve(bill=draft, user=sales, comment="x" * 2001), "comment")


def test_a_clean_comment_is_still_kept_stripped(bill_in, sales):
    bill = bill_approve(bill=bill_in(Status.DRAFT), user=sales, comment="  Looks right.  ")
    assert bill.actions.last().comment == "Looks right."


@pytest.mark.parametrize(
    "value",
    ["1" + "0" * 40, 10**21, "99999999999999999999999999.5", "9" * 59],
)
def test_parse_unit_cost_refuses_a_price_too_large_to_quantize(value):
    # Quantizing these to 6 places needs more digits than the decimal context has: it used to
    # raise decimal.InvalidOperation, a 500 on the API and on the reprice form.
    error = _refused(lambda: parse_unit_cost(value), "overage_unit_cost")
    assert "too large" in error.message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e400", "“1e400” is not a number"),
        ("1e999999999999999999", "“1e999999999999999999” is not a number"),
        ("9" * 61, "“" + "9" * 29 + "…” is too long to be an amount."),
    ],
)
def test_parse_unit_cost_refuses_an_exponent_or_a_flood_of_digits(value, message):
    error = _refused(lambda: parse_unit_cost(value), "overage_unit_cost")
    assert error.message.startswith(message)


def test_repricing_with_a_huge_unit_cost_is_a_400_and_changes_nothing(bill_in, finance):
    bill = bill_in(Status.DRAFT)
    _refused(
        lambda: bill_update(bill=bill, user=finance, comment="Reprice", overage_unit_cost="1e30"),
        "overage_unit_cost",
    )
    assert bill.actions.filter(action=Action.UPDATED).count() == 0


def test_creating_a_billed_month_whose_overage_is_gone_is_a_409_naming_the_bill(bill_in, finance):
    bill = bill_in(Status.DRAFT)
    Usage.objects.filter(customer=bill.customer, year=YEAR, month=MONTH).update(api_usage=0)
    with pytest.raises(DomainError) as caught:
        bill_create(customer_id=bill.customer_id, year=YEAR, month=MONTH, user=finance)
    assert caught.value.kind == "conflict"
    assert f"#{bill.pk}" in caught.value.message
