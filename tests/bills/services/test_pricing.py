"""The amount rule: overage units x unit cost, rounded half-up to cents, exactly, at 64 bits."""

from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import example, given
from hypothesis import strategies as st

from billing_site.core.errors import DomainError
from bills.models import Bill
from bills.services import (
    overage_amount_for,
    overage_exact_amount,
    overage_units_for,
    parse_unit_cost,
)
from tests.factories import MONTH, YEAR, make_bill

MAX_USAGE = 2**63 - 1
MAX_COST_MICROS = 10**14 - 1  # 99999999.999999, the largest 6-place cost below 1e8


def cost_text(micros: int) -> str:
    return f"{micros // 10**6}.{micros % 10**6:06d}"


def expected_cents(units: int, cost: str) -> int:
    """The rule again, without Decimal: whole numbers of micro-units, then half-up to cents."""
    whole, _, fraction = cost.partition(".")
    micros = int(whole) * 10**6 + int(fraction.ljust(6, "0"))
    total_micros = units * micros  # Python ints are exact at any size
    cents, remainder = divmod(total_micros, 10**4)  # 1 cent = 10,000 micro-units
    if remainder * 2 >= 10**4:
        cents += 1
    return cents


def as_cents(amount: Decimal) -> int:
    sign, digits, exponent = amount.as_tuple()
    assert exponent == -2, f"{amount} is not quantized to cents"
    assert sign == 0
    return int("".join(map(str, digits)))


@given(
    units=st.integers(min_value=0, max_value=MAX_USAGE),
    micros=st.integers(min_value=0, max_value=MAX_COST_MICROS),
)
@example(units=MAX_USAGE, micros=MAX_COST_MICROS)
@example(units=MAX_USAGE, micros=1)
def test_amount_is_units_times_cost_rounded_half_up_to_cents(units, micros):
    cost = cost_text(micros)
    assert as_cents(overage_amount_for(units, Decimal(cost))) == expected_cents(units, cost)


@given(
    units=st.integers(min_value=0, max_value=10**12),
    micros=st.integers(min_value=0, max_value=9_999),  # below one cent per call
)
@example(units=1, micros=5_000)  # 0.005 -> 0.01: half-up, not the banker's 0.00
@example(units=1, micros=4_999)  # 0.004999 -> 0.00
@example(units=2, micros=2_500)  # 0.005 -> 0.01
@example(units=401, micros=2_500)  # 1.0025 -> 1.00
@example(units=3, micros=2_500)  # 0.0075 -> 0.01
def test_fractional_cent_unit_costs_round_half_up(units, micros):
    cost = cost_text(micros)
    assert as_cents(overage_amount_for(units, Decimal(cost))) == expected_cents(units, cost)


@pytest.mark.parametrize(
    ("units", "cost", "amount"),
    [
        (1, "0.005", "0.01"),
        (1, "0.015", "0.02"),
        (1, "0.025", "0.03"),  # ROUND_HALF_EVEN would give 0.02
        (3, "0.0025", "0.01"),
        (234_567, "0.0025", "586.42"),
        (0, "1.50", "0.00"),
        # 9223372036854775807 x 99999999.999999 = 922337203685468357327963145.224193
        (MAX_USAGE, "99999999.999999", "922337203685468357327963145.22"),
    ],
)
def test_known_amounts(units, cost, amount):
    assert overage_amount_for(units, Decimal(cost)) == Decimal(amount)


@given(
    usage=st.integers(min_value=0, max_value=MAX_USAGE),
    limit=st.integers(min_value=0, max_value=MAX_USAGE),
)
def test_overage_units_are_usage_above_the_limit_and_never_negative(usage, limit):
    units = overage_units_for(usage, limit)
    assert units == (usage - limit if usage > limit else 0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.0025", "0.002500"), ("1", "1.000000"), (" 0.5 ", "0.500000"), (Decimal("2.1"), "2.1")],
)
def test_parse_unit_cost_accepts_decimal_text_with_up_to_six_places(value, expected):
    assert parse_unit_cost(value) == Decimal(expected)


@pytest.mark.parametrize(
    "value", [0.0025, True, "abc", "", "NaN", "Infinity", "-0.01", "0.0000001", "100000000"]
)
def test_parse_unit_cost_refuses_floats_and_bad_values(value):
    with pytest.raises(DomainError) as caught:
        parse_unit_cost(value)
    assert caught.value.kind == "invalid"
    assert "overage_unit_cost" in caught.value.errors


@pytest.mark.parametrize(
    ("api_usage", "limit", "cost", "amount"),
    [
        (1_000_401, 1_000_000, "0.0025", "1.00"),
        (1_234_567, 1_000_000, "0.0025", "586.42"),
        (5_000_000_000, 1_000_000, "0.000333", "1664667.00"),
        (2, 1, "0.005", "0.01"),
    ],
)
def test_bill_stores_usage_limit_units_cost_and_amount(api_usage, limit, cost, amount, finance):
    bill = make_bill(
        finance=finance,
        api_usage=api_usage,
        year=YEAR,
        month=MONTH,
        monthly_api_limit=limit,
        overage_unit_cost=Decimal(cost),
    )
    bill = Bill.objects.get(pk=bill.pk)
    assert (bill.api_usage, bill.monthly_api_limit) == (api_usage, limit)
    assert bill.overage_units == api_usage - limit
    assert bill.overage_unit_cost == Decimal(cost)
    assert bill.overage_amount == Decimal(amount)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite stores decimals as REAL (15 significant digits); PostgreSQL's numeric is exact",
)
def test_largest_possible_bill_is_stored_exactly(finance):
    # 64-bit usage at the highest unit cost needs 27 digits before the point.
    bill = make_bill(
        finance=finance,
        api_usage=MAX_USAGE,
        year=YEAR,
        month=MONTH,
        monthly_api_limit=0,
        overage_unit_cost=Decimal("99999999.999999"),
    )
    bill = Bill.objects.get(pk=bill.pk)
    cents = expected_cents(MAX_USAGE, "99999999.999999")
    assert bill.overage_units == MAX_USAGE
    assert bill.overage_amount == Decimal(f"{cents // 100}.{cents % 100:02d}")


@given(units=st.integers(0, 2**63 - 1), micros=st.integers(0, 10**14 - 1))
@example(units=2**63 - 1, micros=10**14 - 1)
def test_exact_amount_keeps_every_digit_and_rounds_to_the_billed_amount(units, micros):
    cost = Decimal(micros).scaleb(-6)
    exact = overage_exact_amount(units, cost)
    # Integer arithmetic in micro-units: no Decimal context can lose digits here.
    assert exact == Decimal(f"{units * micros}e-6")  # from text: exact in any context
    cents = (units * micros + 5_000) // 10_000  # half-up, in whole cents
    assert overage_amount_for(units, cost) == Decimal(f"{cents}e-2")
