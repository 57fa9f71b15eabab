"""Helpers for the page tests: a logged-in client per role, htmx headers, bills in bulk."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from billing_site.core import periods
from bills.services import bill_generate
from customers.models import Customer
from tests.factories import CustomerFactory, make_bill
from usage.models import Usage

HTMX = {"HTTP_HX_REQUEST": "true"}
ROLES = ("finance", "sales", "csm", "other_csm")


def htmx(target: str | None = None) -> dict[str, str]:
    """Headers of an htmx request aimed at the element with id `target`."""
    headers = dict(HTMX)
    if target:
        headers["HTTP_HX_TARGET"] = target
    return headers


@pytest.fixture(autouse=True)
def fresh_cache():
    """Login attempt counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def as_user():
    """as_user(user) -> a test client logged in as that user (no password hashing)."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def bill(customer, finance):
    """A draft bill of `customer` (CSM: `csm`) for the last month that has ended."""
    return make_bill(customer=customer, finance=finance)


@pytest.fixture
def many_bills(finance, csm):
    """make(n): n customers with overage last month, billed in one generation."""

    def make(n: int) -> list[int]:
        year, month = periods.last_ended_month()
        start = Customer.objects.count()
        customers = Customer.objects.bulk_create(
            [
                CustomerFactory.build(name=f"Bulk {start + i:05d}", csm=csm if i % 2 else None)
                for i in range(n)
            ]
        )
        Usage.objects.bulk_create(
            [Usage(customer=c, year=year, month=month, api_usage=2_000_000) for c in customers]
        )
        return bill_generate(year=year, month=month, user=finance).bill_ids

    return make


@pytest.fixture
def other_customer(other_csm):
    return CustomerFactory(name="Globex", csm=other_csm)


__all__ = ["HTMX", "ROLES", "htmx", "make_bill"]
