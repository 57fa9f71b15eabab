"""Money as the pages and the invoice write it."""

from decimal import Decimal

import pytest

from billing_site.core.money import format_unit_cost


@pytest.mark.parametrize(
    ("cost", "text"),
    [("0.002500", "0.0025"), ("1.000000", "1.00"), ("12.5", "12.50"), ("0.000001", "0.000001")],
)
def test_unit_cost_is_shown_without_padding_zeros(cost, text):
    assert format_unit_cost(Decimal(cost)) == text
