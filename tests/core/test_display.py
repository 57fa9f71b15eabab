"""The formatting filters the pages use: periods, money, the usage meter."""

from datetime import date
from decimal import Decimal

import pytest

from billing_site.core.templatetags.display import meter, money, month_short


@pytest.mark.parametrize(
    "value, expected",
    [("2026-10", "Oct 2026"), (date(2025, 1, 31), "Jan 2025"), ("", "–"), (None, "–")],
)
def test_month_short_reads_like_a_statement(value, expected):
    assert month_short(value) == expected


def test_money_keeps_every_cent_of_a_large_decimal():
    assert (
        money(Decimal("12345678901234567890123.45")) == "USD\xa012,345,678,901,234,567,890,123.45"
    )
    assert money(Decimal("0.1") + Decimal("0.2")) == "USD\xa00.30"


def test_money_names_its_currency(settings):
    assert money(Decimal("1234.5"), "EUR") == "EUR\xa01,234.50"
    settings.CURRENCY = "JPY"
    assert money(Decimal("1")) == "JPY\xa01.00"


@pytest.mark.parametrize(
    "percent, within, above, clipped",
    [
        (0, 0, 0, False),
        (50, 40.0, 0, False),
        (100, 80.0, 0, False),
        (110, 80.0, 8.0, False),
        (125, 80.0, 20.0, False),
        (400, 80.0, 20.0, True),
        (-5, 0, 0, False),
    ],
)
def test_meter_puts_the_limit_at_four_fifths_of_the_track(percent, within, above, clipped):
    parts = meter(percent)
    assert (parts["within"], parts["above"], parts["clipped"]) == (within, above, clipped)
    assert parts["limit_at"] == 80.0
