"""usage.filters.UsageFilterSet: the filters GET /api/usage and its CSV export share."""

import pytest

from tests.factories import CustomerFactory, UsageFactory
from usage.filters import UsageFilterSet
from usage.models import Usage
from usage.selectors import usage_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def months(customer):
    globex = CustomerFactory(name="Globex")
    return {
        f"{who}-{y}-{m:02d}": UsageFactory(customer=c, year=y, month=m)
        for who, c in (("acme", customer), ("globex", globex))
        for y, m in [(2024, 12), (2025, 1), (2025, 2)]
    }


def shown(data: dict[str, str]) -> list[int]:
    filterset = UsageFilterSet(data=data, queryset=usage_list())
    assert filterset.is_valid(), filterset.errors
    return [u.pk for u in filterset.qs]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {},
            [
                "acme-2025-02",
                "globex-2025-02",
                "acme-2025-01",
                "globex-2025-01",
                "acme-2024-12",
                "globex-2024-12",
            ],
        ),
        ({"from": "2025-01"}, ["acme-2025-02", "globex-2025-02", "acme-2025-01", "globex-2025-01"]),
        ({"to": "2025-01"}, ["acme-2025-01", "globex-2025-01", "acme-2024-12", "globex-2024-12"]),
        ({"from": "2025-01", "to": "2025-01"}, ["acme-2025-01", "globex-2025-01"]),
        ({"from": "2024-12", "to": "2024-12", "year": "2024"}, ["acme-2024-12", "globex-2024-12"]),
        ({"month": "2"}, ["acme-2025-02", "globex-2025-02"]),
        ({"year": "2024"}, ["acme-2024-12", "globex-2024-12"]),
        (
            {"from": "", "to": ""},
            [
                "acme-2025-02",
                "globex-2025-02",
                "acme-2025-01",
                "globex-2025-01",
                "acme-2024-12",
                "globex-2024-12",
            ],
        ),
    ],
)
def test_from_and_to_are_inclusive_and_filters_combine(months, data, expected):
    assert shown(data) == [months[key].pk for key in expected]


def test_customer_id_keeps_one_customers_months(months, customer):
    assert shown({"customer_id": str(customer.pk)}) == [
        months[key].pk for key in ("acme-2025-02", "acme-2025-01", "acme-2024-12")
    ]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"from": "2025-13"}, "from"),
        ({"from": "2025-1"}, "from"),
        ({"to": "1999-12"}, "to"),
        ({"year": "1999"}, "year"),
        ({"month": "0"}, "month"),
        ({"customer_id": str(2**63)}, "customer_id"),
        # A count is ASCII digits: an empty one is not "no filter" (leave it out for that).
        ({"year": ""}, "year"),
        ({"year": "2025.0"}, "year"),
        ({"month": "+2"}, "month"),
        ({"customer_id": " 1"}, "customer_id"),
    ],
)
def test_a_bad_value_is_an_error_on_its_parameter(db, data, field):
    filterset = UsageFilterSet(data=data, queryset=Usage.objects.all())
    assert not filterset.is_valid()
    assert list(filterset.errors) == [field]


def test_the_selector_only_joins_and_orders(months, django_assert_num_queries):
    with django_assert_num_queries(1):
        names = [u.customer.name for u in usage_list()]
    assert names == ["Acme Corp", "Globex"] * 3
