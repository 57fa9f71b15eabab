import os

import pytest

# Playwright runs its own event loop in the test thread; Django's ORM must still be usable there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from django.test import Client  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.models import Role  # noqa: E402
from tests.factories import PASSWORD, CustomerFactory, UserFactory  # noqa: E402

# The roles a page or endpoint is tried with: each role, plus a CSM of another customer.
ROLES = ("finance", "sales", "csm", "other_csm")
HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx(target: str | None = None) -> dict[str, str]:
    """Headers of an htmx request aimed at the element with id `target`."""
    headers = dict(HTMX)
    if target:
        headers["HTTP_HX_TARGET"] = target
    return headers


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def finance(db):
    return UserFactory(name="fiona", role=Role.FINANCE)


@pytest.fixture
def sales(db):
    return UserFactory(name="sam", role=Role.SALES)


@pytest.fixture
def csm(db):
    return UserFactory(name="casey", role=Role.CUSTOMER_SUCCESS)


@pytest.fixture
def other_csm(db):
    return UserFactory(name="cora", role=Role.CUSTOMER_SUCCESS)


@pytest.fixture
def customer(db, csm):
    return CustomerFactory(name="Acme Corp", csm=csm)


@pytest.fixture
def users(finance, sales, csm, other_csm):
    """Every role, plus a CSM who does not manage `customer`."""
    return {"finance": finance, "sales": sales, "csm": csm, "other_csm": other_csm}


@pytest.fixture
def anon():
    """An API client with no credentials."""
    return APIClient()


@pytest.fixture
def api_as():
    """api_as(user) -> an API client sending that user's bearer token (no password hashing)."""

    def make(user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {user.session_token}")
        return client

    return make


@pytest.fixture
def page_as():
    """page_as(user) -> a test client logged in to the pages as that user (no password
    hashing)."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Attempt counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
