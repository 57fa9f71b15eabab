"""bills.unbilled: the customer-months with calls over the limit and no live bill, with why.
Expectations are written out: (customer, period, usage, limit, units, amount, reason)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing_site.core import periods
from bills.models import Status
from bills.services import bill_rebill
from bills.unbilled import unbilled_overage_list, unbilled_rows
from customers.services import customer_terms_set
from tests.factories import MONTH, YEAR, CustomerFactory, UsageFactory, make_bill

pytestmark = pytest.mark.django_db


def _terms(customer, year, month, finance, **changed):
    values = {
        "monthly_api_limit": customer.monthly_api_limit,
        "overage_unit_cost": customer.overage_unit_cost,
        "require_csm_approval": customer.require_csm_approval,
        **changed,
    }
    customer_terms_set(
        customer=customer, effective_year=year, effective_month=month, user=finance, **values
    )
    customer.refresh_from_db()


@pytest.fixture
def book(finance, bill_in):
    """Every case around 2025-03 (limit 1,000,000 at 0.0025 unless said): {name: object}."""
    made = {}

    def over(name, api_usage=1_500_000, year=YEAR, month=MONTH, **fields):
        customer = CustomerFactory(name=name, **fields)
        UsageFactory(customer=customer, year=year, month=month, api_usage=api_usage)
        made[name] = customer
        return customer

    over("Acme Corp")  # never billed
    over("Under Ltd", api_usage=999_999)  # no overage
    over("At Limit", api_usage=1_000_000)  # no overage
    over("One Call", api_usage=1_000_001)  # 0.0025 rounds to 0.00: nothing to bill
    over("Two Calls", api_usage=1_000_002)  # 0.005 rounds half-up to 0.01
    over("Ended Co", end_date=date(2025, 2, 28))  # contract over before March
    over("Later Co", start_date=date(2025, 4, 1))  # contract starts after March
    over("Last Day", start_date=date(2025, 3, 31))  # one day of March is covered
    billed = make_bill(
        customer=CustomerFactory(name="Billed"), finance=finance, year=YEAR, month=MONTH
    )
    made["Billed"] = billed.customer
    rejected = bill_in(Status.REJECTED)  # written off, but billed
    made["Rejected"] = rejected.customer
    void = bill_in(Status.VOID, api_usage=1_200_000)
    made["void"] = void
    rebilled = bill_in(Status.VOID)
    made["rebilled"] = bill_rebill(bill=rebilled, user=finance)
    # Terms: the limit was 1,000,000 in March, raised to 2,000,000 from April: still over.
    raised = over("Raised Later", api_usage=1_500_000)
    _terms(raised, 2025, 4, finance, monthly_api_limit=2_000_000)
    # The limit was 2,000,000 until April, lowered to 1,000,000 since: not over in March.
    lowered = over("Lowered Later", api_usage=1_500_000, monthly_api_limit=2_000_000)
    _terms(lowered, 2025, 4, finance, monthly_api_limit=1_000_000)
    # The price per call for March was 0.01 (a version from March), 0.0025 before.
    pricier = over("Pricier", api_usage=1_100_000)
    _terms(pricier, 2025, 3, finance, overage_unit_cost=Decimal("0.01"))
    # The month in progress cannot be billed yet.
    today = periods.today()
    over("This Month", year=today.year, month=today.month)
    return made


def listed():
    return [
        (
            r.customer_name,
            r.period,
            r.api_usage,
            r.monthly_api_limit,
            r.overage_units,
            str(r.estimated_amount),
            r.reason_label,
        )
        for r in unbilled_rows(unbilled_overage_list())
    ]


def test_it_lists_each_unbilled_overage_with_its_reason(book):
    void_customer = book["void"].customer.name
    assert listed() == sorted(
        [
            ("Acme Corp", "2025-03", 1_500_000, 1_000_000, 500_000, "1250.00", "not generated yet"),
            ("Ended Co", "2025-03", 1_500_000, 1_000_000, 500_000, "1250.00", "not under contract"),
            ("Last Day", "2025-03", 1_500_000, 1_000_000, 500_000, "1250.00", "not generated yet"),
            ("Later Co", "2025-03", 1_500_000, 1_000_000, 500_000, "1250.00", "not under contract"),
            ("Pricier", "2025-03", 1_100_000, 1_000_000, 100_000, "1000.00", "not generated yet"),
            (
                "Raised Later",
                "2025-03",
                1_500_000,
                1_000_000,
                500_000,
                "1250.00",
                "not generated yet",
            ),
            ("Two Calls", "2025-03", 1_000_002, 1_000_000, 2, "0.01", "not generated yet"),
            (
                void_customer,
                "2025-03",
                1_200_000,
                1_000_000,
                200_000,
                "500.00",
                "voided and not re-billed",
            ),
        ]
    )


def test_a_voided_month_points_at_its_last_void_bill(book):
    [row] = [r for r in unbilled_rows(unbilled_overage_list()) if r.reason == "voided"]
    assert row.void_bill_id == book["void"].pk
    assert {r.void_bill_id for r in unbilled_rows(unbilled_overage_list())} == {
        None,
        book["void"].pk,
    }


def test_the_list_runs_one_query_however_many_rows(book, django_assert_num_queries):
    for i in range(20):
        UsageFactory(customer=CustomerFactory(name=f"Bulk {i:02d}"), year=YEAR, month=MONTH)
    with django_assert_num_queries(1):
        rows = unbilled_rows(unbilled_overage_list())
    assert len(rows) == 8 + 20


def test_the_month_in_progress_counts_once_it_has_ended(book):
    today = periods.today()
    later = periods.next_month(today.year, today.month)
    rows = unbilled_rows(unbilled_overage_list(today=date(*later, 1)))
    assert ("This Month", f"{today.year}-{today.month:02d}") in [
        (r.customer_name, r.period) for r in rows
    ]
