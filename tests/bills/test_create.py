"""Billing one customer-month: only ended months under contract with overage make a bill."""

from datetime import date

import pytest

from billing_site.core import periods
from billing_site.core.errors import DomainError
from bills.models import Action, Bill, Status
from bills.services import bill_create
from tests.bills.conftest import MONTH, YEAR
from tests.factories import CustomerFactory, UsageFactory


def _refused(kind, **kwargs):
    with pytest.raises(DomainError) as caught:
        bill_create(**kwargs)
    assert caught.value.kind == kind, caught.value.message
    assert not Bill.objects.exists()
    return caught.value


def test_it_bills_a_month_with_overage(customer, finance):
    UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=1_500_000)
    bill = bill_create(customer_id=customer.pk, year=YEAR, month=MONTH, user=finance)
    assert (bill.status, bill.api_usage, bill.monthly_api_limit) == (
        Status.DRAFT,
        1_500_000,
        1_000_000,
    )
    action = bill.actions.get()
    assert (action.action, action.stakeholder, action.from_status, action.to_status) == (
        Action.CREATED,
        finance,
        "",
        Status.DRAFT,
    )


def test_it_accepts_the_period_as_digit_strings(customer, finance):
    UsageFactory(customer=customer, year=YEAR, month=MONTH)
    bill = bill_create(customer_id=customer.pk, year=str(YEAR), month=f"{MONTH:02d}", user=finance)
    assert (bill.year, bill.month) == (YEAR, MONTH)


@pytest.mark.parametrize("api_usage", [None, 999_999, 1_000_000])
def test_no_overage_means_no_bill(api_usage, customer, finance):
    if api_usage is not None:
        UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=api_usage)
    error = _refused("invalid", customer_id=customer.pk, year=YEAR, month=MONTH, user=finance)
    assert "No overage" in error.message


def test_a_month_that_has_not_ended_cannot_be_billed(customer, finance):
    today = periods.today()
    UsageFactory(customer=customer, year=today.year, month=today.month, api_usage=5_000_000)
    error = _refused(
        "invalid", customer_id=customer.pk, year=today.year, month=today.month, user=finance
    )
    assert "has not ended" in error.message


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2025, 4, 1), None), (date(2020, 1, 1), date(2025, 2, 28))],
    ids=["starts-after", "ended-before"],
)
def test_a_month_outside_the_contract_cannot_be_billed(start, end, finance):
    customer = CustomerFactory(start_date=start, end_date=end)
    UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=5_000_000)
    error = _refused("invalid", customer_id=customer.pk, year=YEAR, month=MONTH, user=finance)
    assert "not under contract" in error.message


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2025, 3, 31), None), (date(2020, 1, 1), date(2025, 3, 1))],
    ids=["starts-on-the-last-day", "ends-on-the-first-day"],
)
def test_a_contract_covering_one_day_of_the_month_is_billed(start, end, finance):
    customer = CustomerFactory(start_date=start, end_date=end)
    UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=5_000_000)
    assert bill_create(customer_id=customer.pk, year=YEAR, month=MONTH, user=finance).pk


@pytest.mark.parametrize(
    ("year", "month", "field"),
    [
        (YEAR, 13, "month"),
        (YEAR, 0, "month"),
        (YEAR, True, "month"),  # int(True) would be January
        (YEAR, 3.7, "month"),  # int(3.7) would be March
        (YEAR, "march", "month"),
        (1999, MONTH, "year"),
        (None, MONTH, "year"),
        (float(YEAR), MONTH, "year"),
    ],
)
def test_a_bad_period_is_invalid(year, month, field, customer, finance):
    UsageFactory(customer=customer, year=YEAR, month=MONTH)
    error = _refused("invalid", customer_id=customer.pk, year=year, month=month, user=finance)
    assert field in error.errors


def test_an_unknown_customer_is_refused_by_the_service_naming_customer_id(finance):
    error = _refused("invalid", customer_id=987654, year=YEAR, month=MONTH, user=finance)
    assert error.errors == {"customer_id": ["No customer has id 987654."]}
