"""A bill whose month's usage looks suspicious (far from the customer's own history) is approved
only with a comment saying why, and the bill's pages say what looks wrong."""

from __future__ import annotations

import pytest

from billing_site.core.errors import DomainError
from bills.models import Status
from bills.services import bill_approve
from tests.factories import MONTH, YEAR, CustomerFactory, UsageFactory, make_bill

# Six months of about 1.2M calls, then YEAR-MONTH: a spike or an ordinary month.
HISTORY = [1_200_000, 1_150_000, 1_250_000, 1_200_000, 1_180_000, 1_220_000]


def _bill_after_history(finance, api_usage: int):
    customer = CustomerFactory(name=f"Metered {api_usage}")
    year, month = YEAR, MONTH
    for calls in reversed(HISTORY):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        UsageFactory(customer=customer, year=year, month=month, api_usage=calls)
    return make_bill(
        customer=customer, finance=finance, api_usage=api_usage, year=YEAR, month=MONTH
    )


def test_a_spike_is_approved_only_with_a_comment_and_history_keeps_why(finance, sales):
    bill = _bill_after_history(finance, 9_000_000)  # 7.5x the median of 1.2M
    with pytest.raises(DomainError) as caught:
        bill_approve(bill=bill, user=sales)
    assert "suspicious" in caught.value.errors["comment"][0]
    bill.refresh_from_db()
    assert bill.status == Status.DRAFT
    bill = bill_approve(bill=bill, user=sales, comment="Launch month; confirmed with the CSM.")
    assert bill.status == Status.APPROVED
    row = bill.actions.last()
    assert row.comment == "Launch month; confirmed with the CSM."
    assert "median" in row.changes["suspicious_usage"]


def test_an_ordinary_month_needs_no_comment(finance, sales):
    bill = _bill_after_history(finance, 1_300_000)
    assert bill_approve(bill=bill, user=sales).status == Status.APPROVED


def test_the_pages_show_the_flag_and_ask_for_the_comment(finance, sales, page_as):
    bill = _bill_after_history(finance, 9_000_000)
    client = page_as(sales)
    page = client.get(f"/bills/{bill.pk}").content.decode()
    assert "Suspicious usage for" in page and "median" in page
    assert 'name="comment"' in page and "say why you approve it" in page
    row = client.get("/dashboard?awaiting=me").content.decode()
    assert ">suspicious usage</span>" in row and f'id="approve-comment-{bill.pk}"' in row
    response = client.post(
        f"/bills/{bill.pk}/approve",
        {"comment": ""},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"bill-row-{bill.pk}",
    )
    assert response.status_code == 400 and "suspicious" in response.content.decode()
