"""Each rule of the usage table is held by the database itself, not only by Python."""

import pytest

from tests.factories import CustomerFactory, UsageFactory, refused_by_the_database
from usage.models import Usage

BIG = 9_000_000_000_000_000_000  # fits a signed 64-bit integer, not a 32-bit one


def test_usage_is_unique_per_customer_month(db):
    usage = UsageFactory(year=2026, month=3)
    refused_by_the_database(
        lambda: Usage.objects.create(customer=usage.customer, year=2026, month=3, api_usage=1)
    )


@pytest.mark.parametrize("month", [0, 13])
def test_usage_month_must_be_1_to_12(db, month):
    customer = CustomerFactory()
    refused_by_the_database(
        lambda: Usage.objects.create(customer=customer, year=2026, month=month, api_usage=1)
    )


def test_usage_cannot_be_negative(db):
    customer = CustomerFactory()
    refused_by_the_database(
        lambda: Usage.objects.create(customer=customer, year=2026, month=1, api_usage=-1)
    )


def test_usage_and_limits_are_64_bit(db):
    customer = CustomerFactory(monthly_api_limit=BIG)
    Usage.objects.create(customer=customer, year=2026, month=1, api_usage=BIG + 1)
    customer.refresh_from_db()
    assert customer.monthly_api_limit == BIG
    assert Usage.objects.get(customer=customer).api_usage == BIG + 1
