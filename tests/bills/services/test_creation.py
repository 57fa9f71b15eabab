"""Making bills: one customer-month (bill_create: only ended months under contract with overage
make a bill), and month-end generation (bill_generate: every customer with overage once, in a fixed
number of queries)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing_site.core import periods
from billing_site.core.errors import DomainError
from bills.models import Action, Bill, BillAction, Status
from bills.services import bill_approve, bill_create, bill_generate, bill_send, bill_void
from customers.models import Customer
from tests.factories import MONTH, YEAR, CustomerFactory, UsageFactory
from usage.models import Usage

# --- one customer-month ----------------------------------------------------------------------


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


# --- month-end generation ---------------------------------------------------------------------


@pytest.fixture
def month_of_customers(db):
    """Two customers to bill and one of each reason to skip."""
    billed = {
        "over": CustomerFactory(name="Over"),
        "over_strict": CustomerFactory(name="Strict", require_csm_approval=True),
    }
    UsageFactory(customer=billed["over"], year=YEAR, month=MONTH, api_usage=1_000_401)
    UsageFactory(customer=billed["over_strict"], year=YEAR, month=MONTH, api_usage=3_000_000)
    under = CustomerFactory(name="Under")
    UsageFactory(customer=under, year=YEAR, month=MONTH, api_usage=999_999)
    CustomerFactory(name="No usage")
    ended = CustomerFactory(name="Ended", end_date=date(2025, 2, 28))
    UsageFactory(customer=ended, year=YEAR, month=MONTH, api_usage=9_000_000)
    return billed


def test_it_bills_every_customer_with_overage_and_says_why_others_were_skipped(
    month_of_customers, finance
):
    result = bill_generate(year=YEAR, month=MONTH, user=finance)
    assert result.created == 2
    assert result.skipped == 3
    assert result.skipped_reasons == {"no overage": 2, "not under contract": 1}
    bills = {b.customer.name: b for b in Bill.objects.select_related("customer")}
    assert set(bills) == {"Over", "Strict"}
    assert sorted(result.bill_ids) == sorted(b.pk for b in bills.values())
    over, strict = bills["Over"], bills["Strict"]
    assert (over.api_usage, over.monthly_api_limit, over.overage_units) == (
        1_000_401,
        1_000_000,
        401,
    )
    assert over.overage_amount == Decimal("1.00")  # 1.0025, half-up to the cent
    assert over.requires_csm_approval is False
    assert strict.overage_amount == Decimal("5000.00")
    assert strict.requires_csm_approval is True
    assert {b.status for b in bills.values()} == {Status.DRAFT}


def test_it_writes_one_created_row_per_bill(month_of_customers, finance):
    bill_generate(year=YEAR, month=MONTH, user=finance)
    rows = list(BillAction.objects.values_list("bill_id", "action", "stakeholder", "to_status"))
    assert sorted(rows) == sorted(
        (pk, Action.CREATED, finance.pk, Status.DRAFT)
        for pk in Bill.objects.values_list("pk", flat=True)
    )


def test_running_it_again_creates_nothing(month_of_customers, finance):
    bill_generate(year=YEAR, month=MONTH, user=finance)
    again = bill_generate(year=YEAR, month=MONTH, user=finance)
    assert again.created == 0
    assert again.skipped_reasons == {"already billed": 2, "no overage": 2, "not under contract": 1}
    assert Bill.objects.count() == 2
    assert BillAction.objects.count() == 2


def test_it_bills_a_voided_customer_month_again(month_of_customers, finance, sales):
    bill_generate(year=YEAR, month=MONTH, user=finance)
    over = Bill.objects.get(customer=month_of_customers["over"])
    bill_approve(bill=over, user=sales)
    bill_send(bill=over, user=finance)
    bill_void(bill=over, user=finance, comment="Wrong price on the invoice.")
    again = bill_generate(year=YEAR, month=MONTH, user=finance)
    assert again.created == 1
    assert again.skipped_reasons["already billed"] == 1
    assert Bill.objects.filter(customer=month_of_customers["over"]).count() == 2
    assert Bill.objects.get(pk=over.pk).status == Status.VOID


def test_only_finance_may_generate(month_of_customers, sales):
    with pytest.raises(DomainError) as caught:
        bill_generate(year=YEAR, month=MONTH, user=sales)
    assert caught.value.kind == "forbidden"
    assert not Bill.objects.exists()


def test_a_month_that_has_not_ended_is_refused(month_of_customers, finance):
    today = periods.today()
    with pytest.raises(DomainError) as caught:
        bill_generate(year=today.year, month=today.month, user=finance)
    assert caught.value.kind == "invalid"
    assert not Bill.objects.exists()


def test_progress_hears_each_phase(month_of_customers, finance):
    heard = []
    bill_generate(year=YEAR, month=MONTH, user=finance, progress=heard.append)
    assert heard == [
        "Reading customers and their usage for March 2025 and writing their bills...",
        "Read 5 customers; wrote 2 bills and their history.",
    ]


def _bulk_customers(count: int, *, first: int = 0) -> None:
    customers = Customer.objects.bulk_create(
        Customer(
            name=f"Bulk {first + n:05d}",
            billing_email=f"bulk{first + n}@customer.example",
            monthly_api_limit=1_000_000,
            overage_unit_cost=Decimal("0.0025"),
            start_date=date(2020, 1, 1),
        )
        for n in range(count)
    )
    # Every third customer stays under its limit.
    Usage.objects.bulk_create(
        Usage(
            customer=c,
            year=YEAR,
            month=MONTH,
            api_usage=900_000 if i % 3 == 0 else 1_000_000 + i,
        )
        for i, c in enumerate(customers)
    )


def _queries_to_generate(finance) -> int:
    with CaptureQueriesContext(connection) as queries:
        bill_generate(year=YEAR, month=MONTH, user=finance)
    return len(queries)


def test_the_query_count_does_not_grow_with_the_customers(finance):
    _bulk_customers(3)
    few = _queries_to_generate(finance)
    # The first run's bills stay: the second run reads all 63 customers, bills the new ones.
    _bulk_customers(60, first=3)
    many = _queries_to_generate(finance)
    # In each batch every third customer has no overage and the second one's single call over
    # the limit comes to 0.0025, which rounds to 0.00: 1 bill of 3, then 39 of 60.
    assert Bill.objects.count() == 1 + 39
    assert many == few


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite splits bulk inserts by its parameter limit; PostgreSQL inserts in one UNNEST",
)
def test_month_end_for_10000_customers_runs_in_a_fixed_number_of_queries(
    finance, django_assert_max_num_queries
):
    _bulk_customers(10_000)
    # Lock, customers with usage and live bills, terms versions, bills, history, savepoints.
    with django_assert_max_num_queries(7):
        result = bill_generate(year=YEAR, month=MONTH, user=finance)
    assert result.created == 6_665
    # Bulk 00001 is one call over at 0.0025: 0.0025 rounds to 0.00, nothing to bill.
    assert result.skipped_reasons == {"no overage": 3_334, "amount rounds to 0.00": 1}
    assert Bill.objects.count() == 6_665
    assert BillAction.objects.count() == 6_665
    last = Bill.objects.get(customer__name="Bulk 09998")
    assert (last.overage_units, last.overage_amount) == (9_998, Decimal("25.00"))  # 24.995


def test_a_month_whose_amount_rounds_to_0_00_is_never_billed(finance, customer):
    # One call over the limit at 0.0025 is 0.0025, which rounds to 0.00.
    UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=1_000_001)
    with pytest.raises(DomainError) as caught:
        bill_create(customer_id=customer.pk, year=YEAR, month=MONTH, user=finance)
    assert "rounds to 0.00" in caught.value.errors["customer_id"][0]
    result = bill_generate(year=YEAR, month=MONTH, user=finance)
    assert (result.created, result.skipped_reasons) == (0, {"amount rounds to 0.00": 1})
    assert not Bill.objects.exists()
