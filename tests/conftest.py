import os

import pytest

# Playwright runs its own event loop in the test thread; Django's ORM must still be usable there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from accounts.models import Role  # noqa: E402
from tests.factories import PASSWORD, CustomerFactory, UserFactory  # noqa: E402


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


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Attempt counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
