"""customers.selectors: customers by name with their CSM joined."""

from __future__ import annotations

import pytest

from customers.selectors import customer_get, customer_list
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_customer_list_is_by_name_then_id_with_the_csm_joined(csm, django_assert_num_queries):
    second = CustomerFactory(name="Beta", csm=csm)
    first = CustomerFactory(name="Alpha")
    twin = CustomerFactory(name="Beta", csm=csm)
    with django_assert_num_queries(1):
        rows = [(c.pk, c.csm.name if c.csm else None) for c in customer_list()]
    assert rows == [(first.pk, None), (second.pk, "casey"), (twin.pk, "casey")]


def test_customer_get(customer, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert customer_get(customer.pk).csm.name == "casey"
    assert customer_get(4242) is None
