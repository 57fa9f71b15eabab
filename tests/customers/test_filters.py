"""customers.filters: which customers GET /api/customers and the /customers search show."""

from __future__ import annotations

import pytest

from customers.filters import CustomerFilterSet, CustomerPageFilterSet
from customers.selectors import customer_list
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(csm, other_csm):
    return {
        "acme": CustomerFactory(name="Acme Corp", csm=csm, require_csm_approval=True),
        "acme-eu": CustomerFactory(name="Acme Europe", csm=other_csm),
        "globex": CustomerFactory(name="Globex", csm=None, require_csm_approval=True),
    }


def shown(customers, data, filterset_class=CustomerFilterSet) -> list[str]:
    filterset = filterset_class(data=data, queryset=customer_list())
    assert filterset.is_valid(), filterset.errors
    label = {c.pk: name for name, c in customers.items()}
    return [label[c.pk] for c in filterset.qs]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, ["acme", "acme-eu", "globex"]),
        ({"search": "aCmE"}, ["acme", "acme-eu"]),
        ({"search": " europe "}, ["acme-eu"]),
        ({"search": "   "}, ["acme", "acme-eu", "globex"]),
        ({"search": "corp europe"}, []),
        ({"require_csm_approval": "true"}, ["acme", "globex"]),
        ({"require_csm_approval": "True"}, ["acme", "globex"]),
        ({"require_csm_approval": "1"}, ["acme", "globex"]),
        ({"require_csm_approval": "false"}, ["acme-eu"]),
        ({"require_csm_approval": "0"}, ["acme-eu"]),
        ({"require_csm_approval": ""}, ["acme", "acme-eu", "globex"]),
        ({"search": "acme", "require_csm_approval": "true"}, ["acme"]),
    ],
)
def test_filters_combine(customers, data, expected):
    assert shown(customers, data) == expected


def test_csm_id_is_the_customers_of_that_csm(customers, other_csm):
    assert shown(customers, {"csm_id": str(other_csm.pk)}) == ["acme-eu"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"require_csm_approval": "maybe"}, "require_csm_approval"),
        ({"csm_id": "abc"}, "csm_id"),
        ({"csm_id": "0"}, "csm_id"),
        ({"search": "x" * 201}, "search"),
        ({"search": "ac\x00me"}, "search"),
    ],
)
def test_a_bad_value_is_an_error_on_its_field(db, data, field):
    filterset = CustomerFilterSet(data=data, queryset=customer_list())
    assert not filterset.is_valid()
    assert list(filterset.errors) == [field]


def test_the_page_searches_with_q_and_nothing_else(customers, other_csm):
    data = {"q": "ACME", "search": "europe", "csm_id": str(other_csm.pk)}
    assert shown(customers, data, CustomerPageFilterSet) == ["acme", "acme-eu"]
    form = CustomerPageFilterSet(data=data, queryset=customer_list()).form
    assert list(form.fields) == ["q"]
    assert form["q"].label == "Search customers"
