"""core.filters.PeriodField: YYYY-MM, and the months people type where a browser has no month
picker, read exactly; anything else refused, quoting it and naming YYYY-MM."""

import pytest
from django import forms

from billing_site.core.filters import Month, PeriodField


@pytest.mark.parametrize(
    ("typed", "month"),
    [
        ("2026-09", Month(2026, 9)),
        (" 2026-09 ", Month(2026, 9)),
        ("2026/09", Month(2026, 9)),
        ("09/2026", Month(2026, 9)),
        ("9/2026", Month(2026, 9)),
        ("Sep 2026", Month(2026, 9)),
        ("sep 2026", Month(2026, 9)),
        ("Sep. 2026", Month(2026, 9)),
        ("Sept 2026", Month(2026, 9)),
        ("September 2026", Month(2026, 9)),
        ("DECEMBER 2025", Month(2025, 12)),
        ("", None),
    ],
)
def test_a_month_is_read_in_the_forms_people_type(typed, month):
    assert PeriodField(required=False).clean(typed) == month


@pytest.mark.parametrize(
    "typed",
    [
        "2026-13",
        "13/2026",
        "2026-9",
        "Sep 26",
        "Sepx 2026",
        "2026 Sep",
        "09.2026",
        "1999-12",
        "Sep 3000",
        "２０２６-０９",
        "Sep ２０２６",
        "September",
    ],
)
def test_anything_else_is_refused_quoting_it_and_naming_the_format(typed):
    with pytest.raises(forms.ValidationError) as refused:
        PeriodField(required=False).clean(typed)
    assert refused.value.messages == [
        f"“{typed}” is not a month. Enter a month as YYYY-MM, e.g. 2026-10."
    ]


@pytest.mark.parametrize(
    ("typed", "shown"),
    [("Sep 2026", "2026-09"), ("09/2026", "2026-09"), ("2026-09", "2026-09"), ("Sep", "Sep")],
)
def test_a_month_shows_back_as_yyyy_mm_and_other_text_as_typed(typed, shown):
    class Form(forms.Form):
        period = PeriodField(required=False)

    assert Form(data={"period": typed})["period"].value() == shown
