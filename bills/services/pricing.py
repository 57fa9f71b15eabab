"""What a bill charges (SPEC "Computing a bill"): overage units, the exact product and its
rounding to cents, and the one parser of a price per call."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

from billing_site.core import money
from billing_site.core.decimals import DecimalTextError, parse_decimal_text
from billing_site.core.errors import DomainError

UNIT_COST_PLACES = Decimal("0.000001")
# A reprice this large asks to be confirmed: more than ten times up or down, or above a million.
CONFIRM_FACTOR = 10
CONFIRM_ABOVE = Decimal("1000000.00")
# The column holds 14 digits, 6 of them decimals.
MAX_UNIT_COST = Decimal("1e8")


def overage_units_for(api_usage: int, monthly_api_limit: int) -> int:
    """Calls over the limit: max(0, usage - limit). Both are whole API-call counts."""
    return max(0, int(api_usage) - int(monthly_api_limit))


def overage_exact_amount(units: int, unit_cost: Decimal) -> Decimal:
    """units x unit cost before rounding, exactly (what the bill page shows before rounding)."""
    with localcontext(prec=money.PRECISION):
        return Decimal(int(units)) * Decimal(unit_cost)


def overage_amount_for(units: int, unit_cost: Decimal) -> Decimal:
    """units x unit cost, rounded half-up to cents, exactly: the bill's overage_amount."""
    return money.round_to_cents(overage_exact_amount(units, unit_cost))


def parse_unit_cost(
    value: Decimal | str | int, *, field_name: str = "overage_unit_cost"
) -> Decimal:
    """A price per call: a Decimal >= 0 below 1e8 with at most 6 decimal places.

    Takes a decimal string ("0.0025"), a Decimal or an int; a float or a bool is refused (a
    float cannot hold 0.0025 exactly). Raises DomainError(kind="invalid") naming `field_name`.
    """
    if isinstance(value, float | bool):
        raise DomainError.invalid(
            'Send the unit cost as a decimal string, e.g. "0.0025".', field_name
        )
    try:
        # Digits and a dot only (core.decimals): Decimal would read "1e-3" and "１", and a
        # German "0,0025" must be refused with what was typed, never guessed at.
        cost = value if isinstance(value, Decimal) else parse_decimal_text(str(value).strip())
    except DecimalTextError as error:
        raise DomainError.invalid(error.message, field_name) from None
    if not cost.is_finite():
        raise DomainError.invalid("Enter a finite number.", field_name)
    if cost < 0:
        raise DomainError.invalid("The unit cost cannot be negative.", field_name)
    # Size before places: quantizing "1e30" to 6 places needs more digits than the decimal
    # context has, and raises InvalidOperation (a 500) instead of answering.
    if cost >= MAX_UNIT_COST:
        raise DomainError.invalid("The unit cost is too large.", field_name)
    if cost != cost.quantize(UNIT_COST_PLACES, rounding=ROUND_HALF_UP):
        raise DomainError.invalid("Use at most 6 decimal places.", field_name)
    return cost.quantize(UNIT_COST_PLACES)


def overage_amount_now(bill) -> Decimal:
    """What `bill` would charge for its month's usage as recorded now, at its own limit and
    unit cost (the difference a changed usage makes)."""
    units = overage_units_for(bill.month_usage(), bill.monthly_api_limit)
    return overage_amount_for(units, bill.overage_unit_cost)


def reprice_needs_confirming(old: Decimal, new: Decimal) -> bool:
    """Whether repricing an amount from `old` to `new` is large enough to ask "are you sure":
    more than CONFIRM_FACTOR times up or down, or above CONFIRM_ABOVE."""
    return new > CONFIRM_ABOVE or new > old * CONFIRM_FACTOR or new * CONFIRM_FACTOR < old
