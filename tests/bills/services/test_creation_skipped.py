"""bill_generate names the customers it skips, per reason, by name, capped at SKIPPED_NAMED
(the counts stay exact)."""

from __future__ import annotations

from datetime import date

import pytest

from bills.services import bill_generate, generation
from tests.factories import MONTH, YEAR, CustomerFactory, UsageFactory, make_bill

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(finance):
    def customer(name, api_usage, **fields):
        c = CustomerFactory(name=name, **fields)
        UsageFactory(customer=c, year=YEAR, month=MONTH, api_usage=api_usage)
        return c

    made = {
        "Zeta": customer("Zeta", 10),
        "Alpha": customer("Alpha", 20),
        "Mid": customer("Mid", 999_999),
        "Penny": customer("Penny", 1_000_001),  # 0.0025 rounds to 0.00
        "Gone": customer("Gone", 2_000_000, end_date=date(2024, 12, 31)),
        "Billed": customer("Billed", 2_000_000),
        "New": customer("New", 2_000_000),
    }
    make_bill(customer=made["Billed"], finance=finance, year=YEAR, month=MONTH, api_usage=2_000_000)
    return made


def _named(result):
    return {
        reason: [(c.id, c.name) for c in customers]
        for reason, customers in result.skipped_customers.items()
    }


def test_it_names_the_skipped_customers_of_each_reason_by_name(finance, month):
    result = bill_generate(year=YEAR, month=MONTH, user=finance)
    ids = {name: c.pk for name, c in month.items()}
    assert result.created == 1
    assert result.skipped_reasons == {
        "no overage": 3,
        "amount rounds to 0.00": 1,
        "not under contract": 1,
        "already billed": 1,
    }
    assert _named(result) == {
        "no overage": [(ids["Alpha"], "Alpha"), (ids["Mid"], "Mid"), (ids["Zeta"], "Zeta")],
        "amount rounds to 0.00": [(ids["Penny"], "Penny")],
        "not under contract": [(ids["Gone"], "Gone")],
        "already billed": [(ids["Billed"], "Billed")],
    }


def test_only_the_first_names_are_kept_but_every_skip_is_counted(finance, month, monkeypatch):
    monkeypatch.setattr(generation, "SKIPPED_NAMED", 2)
    result = bill_generate(year=YEAR, month=MONTH, user=finance)
    assert result.skipped_reasons["no overage"] == 3
    assert [c.name for c in result.skipped_customers["no overage"]] == ["Alpha", "Mid"]
