"""API clients per role (Bearer token, no password hashing) and bills in any status."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from bills.models import Bill, Status
from bills.services import bill_approve, bill_reject, bill_send, bill_void
from tests.factories import make_bill

# A month that has ended whatever day the tests run on.
YEAR, MONTH = 2025, 3
ROLES = ("finance", "sales", "csm", "other_csm")


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Throttle counters live in the cache; one test's login attempts must not throttle the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anon():
    return APIClient()


def bearer_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user.session_token}")
    return client


@pytest.fixture
def as_user():
    """as_user(user) -> an API client sending that user's bearer token."""
    return bearer_client


@pytest.fixture
def client_for(users):
    """client_for("anonymous" | "finance" | "sales" | "csm" | "other_csm")."""

    def make(role: str) -> APIClient:
        return APIClient() if role == "anonymous" else bearer_client(users[role])

    return make


@pytest.fixture
def bill_in(customer, finance, sales):
    """bill_in("approved") -> a bill of `customer` (CSM: casey) for YEAR-MONTH in that status."""

    def make(status: str = Status.DRAFT, *, customer_=None, **kwargs) -> Bill:
        bill = make_bill(
            customer=customer_ or customer, finance=finance, year=YEAR, month=MONTH, **kwargs
        )
        if status == Status.DRAFT:
            return bill
        if status == Status.REJECTED:
            return bill_reject(bill=bill, user=sales, comment="Not this month.")
        bill = bill_approve(bill=bill, user=sales)
        if status == Status.APPROVED:
            return bill
        bill = bill_send(bill=bill, user=finance)
        if status == Status.SENT:
            return bill
        assert status == Status.VOID, status
        return bill_void(bill=bill, user=finance, comment="Wrong address.")

    return make
