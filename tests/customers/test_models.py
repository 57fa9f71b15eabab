"""Each rule of the customer table is held by the database itself, not only by Python."""

from datetime import date
from decimal import Decimal

from tests.factories import CustomerFactory, refused_by_the_database


def test_customer_limit_and_unit_cost_cannot_be_negative(db):
    refused_by_the_database(lambda: CustomerFactory(monthly_api_limit=-1))
    refused_by_the_database(lambda: CustomerFactory(overage_unit_cost=Decimal("-0.01")))


def test_contract_cannot_end_before_it_starts(db):
    refused_by_the_database(
        lambda: CustomerFactory(start_date=date(2026, 5, 1), end_date=date(2026, 4, 30))
    )
