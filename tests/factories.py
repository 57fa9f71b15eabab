"""factory-boy factories, and the plain helpers the tests share (the fixtures are in conftest.py).
Bills are made through the services, so their history is real."""

from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal

import factory
import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction

from accounts.models import Role, User
from billing_site.core import periods
from bills.models import Bill
from customers.models import Customer
from usage.models import Usage

PASSWORD = "correct horse battery staple"
YEAR, MONTH = 2025, 3  # a month that has ended whatever day the tests run

# The roles a page or endpoint is tried with: each role, plus a CSM of another customer.
ROLES = ("finance", "sales", "csm", "other_csm")
HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx(target: str | None = None) -> dict[str, str]:
    """Headers of an htmx request aimed at the element with id `target`."""
    headers = dict(HTMX)
    if target:
        headers["HTTP_HX_TARGET"] = target
    return headers


def refused_by_the_database(write) -> None:
    """write() must fail on a database constraint (inside a savepoint, so the test goes on)."""
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


def _password_hash() -> str:
    # One hash per hasher list: a test that swaps in a fast hasher (test_fuzz_api.py) must not
    # leave its hash to the tests after it, whose servers only know bcrypt and PBKDF2.
    return _password_hash_with(tuple(settings.PASSWORD_HASHERS))


@functools.cache
def _password_hash_with(hashers: tuple[str, ...]) -> str:
    # One bcrypt hash per test session: hashing is deliberately slow.
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.name}@example.com")
    role = Role.FINANCE
    password = factory.LazyFunction(_password_hash)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n:04d}")
    billing_address = factory.Sequence(lambda n: f"{n} Market Street\nSpringfield 0{n % 10}000")
    billing_email = factory.Sequence(lambda n: f"billing{n}@customer.example")
    csm = None
    monthly_api_limit = 1_000_000
    overage_unit_cost = Decimal("0.002500")
    require_csm_approval = False
    start_date = date(2020, 1, 1)
    end_date = None


class UsageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Usage

    customer = factory.SubFactory(CustomerFactory)
    year = factory.LazyFunction(lambda: periods.last_ended_month()[0])
    month = factory.LazyFunction(lambda: periods.last_ended_month()[1])
    api_usage = 1_500_000


def make_bill(
    *,
    customer: Customer | None = None,
    finance: User | None = None,
    api_usage: int = 1_500_000,
    year: int | None = None,
    month: int | None = None,
    **customer_fields,
) -> Bill:
    """A draft bill for a past month, created by the real service (so it has its history)."""
    from bills.services import bill_create

    if year is None or month is None:
        year, month = periods.last_ended_month()
    customer = customer or CustomerFactory(**customer_fields)
    finance = finance or UserFactory(name="finance-maker", role=Role.FINANCE)
    Usage.objects.update_or_create(
        customer=customer, year=year, month=month, defaults={"api_usage": api_usage}
    )
    return bill_create(customer_id=customer.pk, year=year, month=month, user=finance)
