"""Fuzzing the JSON API from its own OpenAPI document (issue 13 "Prove it"): schemathesis sends
generated requests to every operation of /api/schema/ as nobody and as each role, and each answer
must be no 5xx and exactly what the document says (a documented status code, content type and
body). FUZZ_EXAMPLES sets the examples per operation and role: a few in `make test`, many in
`make fuzz` (which also runs the coverage phase). What it found is kept as plain tests in
tests/billing_site/test_fuzz_regressions.py.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Role
from billing_site.wsgi import application
from bills.services import bill_approve
from tests.factories import CustomerFactory, UsageFactory, UserFactory, make_bill

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
LONG = EXAMPLES >= 100
# The short run (a minute of `make test`) fuzzes as nobody and as Finance, who reaches the most
# code; the long run as every role.
ROLES = (
    ["nobody", Role.FINANCE, Role.SALES, Role.CUSTOMER_SUCCESS]
    if LONG
    else ["nobody", Role.FINANCE]
)
# Ids of the objects the `headers` fixture made (bills, customers, usage rows, payments); an id
# path parameter is drawn from those half the time, else anything.
KNOWN: list[int] = []
KNOWN_IDS = st.integers(min_value=0, max_value=5).map(lambda i: KNOWN[i % len(KNOWN)])

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# The coverage phase sends its own many requests per operation whatever FUZZ_EXAMPLES says: it is
# left to the long run, so the short one in `make test` stays within a minute.
schema.config.phases.coverage.enabled = LONG


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    ids = [name for name in path_parameters or () if name in ("id", "payment_id")]
    if not ids:
        return st.just(path_parameters)
    known_ids = st.fixed_dictionaries({name: KNOWN_IDS for name in ids})
    return st.just(path_parameters) | known_ids.map(lambda drawn: {**path_parameters, **drawn})


@pytest.fixture(params=ROLES)
def headers(request, db, settings):
    """The world the requests meet (customers, usage, bills in a few states), and the bearer
    token of a user of the role, or none."""
    # Logins and sign-ups hash passwords; bcrypt at each of thousands of examples is minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    finance = UserFactory(name="fiona", role=Role.FINANCE)
    sales = UserFactory(name="sam", role=Role.SALES)
    csm = UserFactory(name="casey", role=Role.CUSTOMER_SUCCESS)
    acme = CustomerFactory(name="Acme Corp", csm=csm, monthly_api_limit=1_000)
    globex = CustomerFactory(name="Globex", csm=None, monthly_api_limit=1_000)
    CustomerFactory(name="Initech", csm=csm, require_csm_approval=True)
    usage = UsageFactory(customer=acme, year=2024, month=1, api_usage=500)
    draft = make_bill(customer=acme, finance=finance, year=2025, month=1, api_usage=2_000)
    approved = bill_approve(
        bill=make_bill(customer=globex, finance=finance, year=2025, month=1, api_usage=3_000),
        user=sales,
    )
    KNOWN[:] = [draft.pk, approved.pk, acme.pk, globex.pk, usage.pk]
    user = {Role.FINANCE: finance, Role.SALES: sales, Role.CUSTOMER_SUCCESS: csm}.get(request.param)
    # The app is called through WSGI in this test's transaction: Django's own test client
    # disconnects close_old_connections likewise, which would close the connection mid-test.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {"Authorization": f"Bearer {user.session_token}"} if user else {}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_documented_and_no_5xx(case, headers):
    case.call_and_validate(headers=headers, checks=CHECKS)
