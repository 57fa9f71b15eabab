"""billing_site.core.filters: the pieces every FilterSet is made of, on the usage table (a year
and a month column) and through a customer relation."""

from __future__ import annotations

import pytest
from django import forms
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from billing_site.core.filters import (
    FilterSet,
    IdFilter,
    Month,
    PeriodField,
    PeriodFilter,
    SortFilter,
    YesNoField,
    filter_for_api,
    filter_for_page,
    filter_query,
)
from tests.factories import CustomerFactory
from usage.models import Usage


class UsageFilterSet(FilterSet):
    customer_id = IdFilter(description="Of this customer.")
    period = PeriodFilter()
    since = PeriodFilter(lookup_expr="gte")
    until = PeriodFilter(lookup_expr="lte")
    sort = SortFilter(orderings={"usage": ("Largest usage", ("-api_usage", "id"))})

    class Meta:
        model = Usage
        fields = []


MONTHS = [(2024, 11), (2024, 12), (2025, 1), (2025, 2), (2025, 3)]


@pytest.fixture
def months(db):
    customer = CustomerFactory(name="Acme Corp")
    for i, (year, month) in enumerate(MONTHS):
        Usage.objects.create(customer=customer, year=year, month=month, api_usage=10 * (i % 3))
    return customer


def shown(data) -> list[tuple[int, int]]:
    filterset = UsageFilterSet(data=data, queryset=Usage.objects.order_by("year", "month"))
    assert filterset.is_valid(), filterset.errors
    return [(u.year, u.month) for u in filterset.qs]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"period": "2024-12"}, [(2024, 12)]),
        ({"since": "2024-12"}, MONTHS[1:]),
        ({"until": "2025-01"}, MONTHS[:3]),
        ({"since": "2024-12", "until": "2025-02"}, MONTHS[1:4]),
        ({"since": "2025-02", "until": "2024-12"}, []),
        ({"since": ""}, MONTHS),
    ],
)
def test_periods_select_whole_months_across_years(months, data, expected):
    assert shown(data) == expected


def test_sort_applies_a_named_order_and_blank_keeps_the_querysets(months):
    assert shown({"sort": "usage"}) == [(2025, 1), (2024, 12), (2025, 3), (2024, 11), (2025, 2)]
    assert shown({"sort": ""}) == MONTHS


def test_a_period_reads_as_a_month():
    field = PeriodField(required=False)
    assert field.clean("2026-10") == Month(2026, 10)
    assert str(field.clean(" 2026-01 ")) == "2026-01"
    assert field.clean("") is None
    year, month = field.clean("2026-10")
    assert (year, month) == (2026, 10)
    for bad in ("2026-13", "2026-1", "1999-12", "3000-01", "October", "２０２６-１０", "2026-١٠"):
        with pytest.raises(forms.ValidationError):
            field.clean(bad)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("on", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("", None),
        ("null", None),
        (None, None),
    ],
)
def test_yes_or_no_reads_the_spellings_drf_reads(value, expected):
    assert YesNoField(required=False).clean(value) is expected


@pytest.mark.parametrize("value", ["maybe", "2", "truthy"])
def test_yes_or_no_refuses_anything_else(value):
    with pytest.raises(forms.ValidationError):
        YesNoField(required=False).clean(value)


def _request(query: str) -> Request:
    return Request(APIRequestFactory().get(f"/anything?{query}"))


def test_the_api_refuses_a_bad_value_naming_the_parameter(months):
    with pytest.raises(ValidationError) as caught:
        filter_for_api(UsageFilterSet, _request("since=soon&customer_id=0"), Usage.objects.all())
    assert sorted(caught.value.detail) == ["customer_id", "since"]
    assert filter_for_api(UsageFilterSet, _request("since=2025-03"), Usage.objects.all())


def test_the_api_refuses_an_unknown_parameter_naming_the_known_ones(months):
    with pytest.raises(ValidationError) as caught:
        filter_for_api(UsageFilterSet, _request("sinse=2025-03&page=2"), Usage.objects.all())
    assert caught.value.detail == {
        "sinse": ["Unknown filter. Known: customer_id, period, since, until, sort."],
        "page": ["Unknown filter. Known: customer_id, period, since, until, sort."],
    }


def test_the_api_takes_the_paging_parameters_it_is_told_of(months):
    request = _request("since=2025-03&page=1&page_size=5")
    qs = filter_for_api(UsageFilterSet, request, Usage.objects.all(), allowed=("page", "page_size"))
    assert [(u.year, u.month) for u in qs] == [(2025, 3)]
    with pytest.raises(ValidationError) as caught:
        filter_for_api(
            UsageFilterSet, _request("per_page=5"), Usage.objects.all(), allowed=("page",)
        )
    assert caught.value.detail == {
        "per_page": ["Unknown filter. Known: customer_id, period, since, until, sort; and page."]
    }


def test_filter_query_keeps_the_valid_filters_only(months):
    request = APIRequestFactory().get("/x?until=never&since=2025-02&page=3&per_page=50&sort=")
    filterset, _ = filter_for_page(UsageFilterSet, request, Usage.objects.all())
    assert filter_query(filterset) == "?since=2025-02"
    empty, _ = filter_for_page(
        UsageFilterSet, APIRequestFactory().get("/x?page=2"), Usage.objects.all()
    )
    assert filter_query(empty) == ""


def test_a_page_drops_a_bad_value_and_keeps_the_good_ones(months):
    request = APIRequestFactory().get("/anything?since=2025-02&until=never")
    filterset, qs = filter_for_page(UsageFilterSet, request, Usage.objects.order_by("month"))
    assert list(filterset.errors) == ["until"]
    assert [(u.year, u.month) for u in qs] == [(2025, 2), (2025, 3)]


def test_qs_without_leaves_the_named_filters_out(months):
    filterset = UsageFilterSet(
        data={"since": "2025-01", "until": "2025-01"}, queryset=Usage.objects.all()
    )
    assert [(u.year, u.month) for u in filterset.qs] == [(2025, 1)]
    assert sorted((u.year, u.month) for u in filterset.qs_without("until")) == MONTHS[2:]
    unbound = UsageFilterSet(queryset=Usage.objects.all())
    assert unbound.qs_without("until").count() == 5


def test_each_filter_says_what_the_openapi_document_shows():
    filters = UsageFilterSet.base_filters
    annotation = {name: f._spectacular_annotation["field"] for name, f in filters.items()}
    assert annotation["customer_id"] == {
        "type": "integer",
        "format": "int64",
        "minimum": 1,
        "maximum": 2**63 - 1,
        "description": "Of this customer.",
    }
    assert annotation["since"]["pattern"] == r"^\d{4}-(0[1-9]|1[0-2])$"
    assert annotation["sort"] == {"type": "string", "enum": ["usage"]}
    assert [filters[n].label for n in ("period", "since", "until")] == ["Period", "From", "To"]
