"""The fixtures every test module may ask for: a user per role, the customer "Acme Corp", clients
for the API and the pages, bills in any status, and a fresh cache for each test. Plain helpers
(the test month, the role list, htmx headers) live in tests/factories.py."""

import os

import pytest

# Playwright runs its own event loop in the test thread; Django's ORM must still be usable there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from django.db.backends.signals import connection_created  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.models import Role  # noqa: E402
from billing_site.core import periods  # noqa: E402
from billing_site.core.maintenance import open_hatch_on_connect  # noqa: E402
from bills.models import Bill, Status  # noqa: E402
from bills.services import (  # noqa: E402
    bill_approve,
    bill_generate,
    bill_reject,
    bill_send,
    bill_void,
    payment_record,
)
from customers.models import Customer  # noqa: E402
from tests.factories import (  # noqa: E402
    MONTH,
    PASSWORD,
    YEAR,
    CustomerFactory,
    UserFactory,
    make_bill,
)
from usage.models import Usage  # noqa: E402

# Django's test flush empties every table between transactional tests (TRUNCATE on PostgreSQL,
# DELETE on SQLite), history tables included: the tests, and only they, open the maintenance
# hatch on every connection (billing_site.core.maintenance). tests/test_history_guard.py closes
# it to prove the tables refuse.
connection_created.connect(open_hatch_on_connect, dispatch_uid="tests_open_maintenance_hatch")

# --- people ------------------------------------------------------------------------------------


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
def cs_user(db):
    """A Customer Success user who manages nobody; stands in as CSM where a customer has none."""
    return UserFactory(name="cody", role=Role.CUSTOMER_SUCCESS)


@pytest.fixture
def users(finance, sales, csm, other_csm):
    """Every role, plus a CSM who does not manage `customer`."""
    return {"finance": finance, "sales": sales, "csm": csm, "other_csm": other_csm}


@pytest.fixture
def staff(db):
    """A superuser, for the admin."""
    return UserFactory(name="root", role=Role.FINANCE, is_staff=True, is_superuser=True)


# --- customers ---------------------------------------------------------------------------------


@pytest.fixture
def customer(db, csm):
    return CustomerFactory(name="Acme Corp", csm=csm)


@pytest.fixture
def unmanaged_customer(db):
    return CustomerFactory(name="Orphan Ltd", csm=None)


# --- clients -----------------------------------------------------------------------------------


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


@pytest.fixture
def client_for(users, api_as):
    """client_for("anonymous" | "finance" | "sales" | "csm" | "other_csm") -> an API client."""

    def make(role: str) -> APIClient:
        return APIClient() if role == "anonymous" else api_as(users[role])

    return make


@pytest.fixture
def staff_client(client, staff):
    """The test client, logged in to the admin as `staff`."""
    client.force_login(staff)
    return client


# --- bills -------------------------------------------------------------------------------------


@pytest.fixture
def bill(customer, finance):
    """A draft bill of `customer` (CSM: `csm`) for the last month that has ended."""
    return make_bill(customer=customer, finance=finance)


@pytest.fixture
def bill_in(finance, sales):
    """bill_in("approved", customer=...) -> a bill for YEAR-MONTH in that status (default draft),
    taken there by the real services: created by `finance`, decided by `sales`; "paid" is sent,
    then paid in full today by `finance` (reference "TR-PAID").

    Without `customer`, the bill is of a new customer that has no CSM, made from the other keyword
    arguments (monthly_api_limit=..., ...) by make_bill; pass customer=customer for "Acme Corp",
    whose CSM is `csm`. The customer must need one approval.
    """

    def make(status: str = Status.DRAFT, *, customer=None, **kwargs) -> Bill:
        bill = make_bill(customer=customer, finance=finance, year=YEAR, month=MONTH, **kwargs)
        if status == Status.DRAFT:
            return bill
        if status == Status.REJECTED:
            return bill_reject(bill=bill, user=sales, comment="Not this month.")
        bill = bill_approve(bill=bill, user=sales)
        assert bill.status == Status.APPROVED, "bill_in() needs a one-approval customer"
        if status == Status.APPROVED:
            return bill
        bill = bill_send(bill=bill, user=finance)
        if status == Status.SENT:
            return bill
        if status == Status.PAID:
            amount, today = bill.overage_amount, periods.today()
            return payment_record(
                bill=bill, user=finance, date=today, amount=amount, reference="TR-PAID"
            ).bill
        assert status == Status.VOID, status
        return bill_void(bill=bill, user=finance, comment="Sent to the wrong address.")

    return make


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


# --- settings ----------------------------------------------------------------------------------


@pytest.fixture
def throttle_rates(settings):
    """throttle_rates(login_name="2/min") -> those rates for this test only."""

    def set_rates(**scopes):
        current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**current, **scopes},
        }

    return set_rates


# --- isolation ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Login and sign-up attempt counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def run_tasks(db):
    """Run the background tasks queued so far (tests/tasks.py), as the worker would."""
    from tests.tasks import tasks_run

    return tasks_run
