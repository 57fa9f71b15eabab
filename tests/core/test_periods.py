"""billing_site.core.periods.parse: a period given to a service, read by core.numbers' rule."""

from __future__ import annotations

import pytest

from billing_site.core import periods
from billing_site.core.errors import DomainError


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [(2025, 3, (2025, 3)), ("2025", "03", (2025, 3)), (2000, 12, (2000, 12))],
)
def test_a_period_is_read_from_ints_or_digits(year, month, expected):
    assert periods.parse(year, month) == expected


@pytest.mark.parametrize(
    ("year", "month", "errors"),
    [
        (1999, 3, {"year": ["Enter a year between 2000 and 2999."]}),
        (2025, 13, {"month": ["Enter a month from 1 to 12."]}),
        ("2025", "-1", {"month": ["Enter a month from 1 to 12."]}),
        (2025.0, 3, {"year": ["Enter a whole number, not the decimal number 2025.0."]}),
        (2025, True, {"month": ["Enter a whole number, not true."]}),
        ("2025.0", "3", {"year": ["“2025.0” is not a whole number: type digits only."]}),
        (
            " 2025",
            None,
            {
                "year": ["“ 2025” is not a whole number: type digits only."],
                "month": ["Enter a whole number, not null."],
            },
        ),
    ],
)
def test_anything_else_is_refused_naming_the_part(year, month, errors):
    with pytest.raises(DomainError) as caught:
        periods.parse(year, month)
    assert caught.value.kind == "invalid"
    assert caught.value.errors == errors
