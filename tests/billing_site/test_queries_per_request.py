"""Queries per request of every list page and list endpoint (issue 14, "Build" 4: "Queries per
request for every list page and list endpoint at 10 and at 1,000 rows (must be equal)").

LISTS names each list route of the URL conf (the full route string, as
tests/billing_site/test_url_access_matrix.py names routes), and for each the requests that list
something: who asks (a role that may see it), what the list grows with (a kind of row the World
below makes), the URL and, for the bulk previews, the body. Each request is asked with SMALL rows
of its kind and again with BIG rows; the number of SQL queries must be the same. A count that
grows with the rows is a query per row (N+1).

NOT_LISTS names every other route with why it is not a list (one object, an action, a form).
A route added to the URL conf in neither fails test_every_route_is_a_list_or_says_why, naming
it. The expected answers are written here; nothing is read from the code under test.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.billing_site.list_world import World
from tests.billing_site.test_url_access_matrix import url_conf_routes
from tests.factories import MONTH, YEAR

pytestmark = pytest.mark.django_db

SMALL, BIG = 10, 1_000
BULK_BIG = 500  # a bulk action takes at most 500 bills (SPEC "JSON API": bulk actions)


@dataclass(frozen=True)
class Ask:
    """One request of a list: `role` asks `url` ({bill}, {customer}, {usage}, {job} filled in by
    the World) after the World made rows of `grows`; `body` "ids": the bills' ids (drafts,
    approved and sent), as JSON."""

    role: str
    grows: str
    url: str
    method: str = "GET"
    body: str = ""
    big: int = BIG


PAST = f"year={YEAR}&month={MONTH}"
SENT_MONTH = f"year={YEAR}&month={MONTH}&status=sent"

LISTS: dict[str, tuple[Ask, ...]] = {
    # --- pages ---
    "dashboard": (
        Ask("finance", "bills", "/dashboard"),
        Ask("finance", "bills", f"/dashboard?{SENT_MONTH}&sort=amount"),
        Ask("sales", "bills", "/dashboard?awaiting=me"),
        Ask("finance", "bills", "/dashboard?page=2"),
    ),
    "dashboard/awaiting": (Ask("sales", "bills", "/dashboard/awaiting"),),
    "bills/unbilled": (Ask("finance", "unbilled", "/bills/unbilled"),),
    "bills/bulk/<str:action>": (
        Ask("sales", "bills", "/bills/bulk/approve?all=1&next=/dashboard", big=BULK_BIG),
        Ask("finance", "bills", "/bills/bulk/send?all=1&next=/dashboard", big=BULK_BIG),
    ),
    "bills/jobs/<str:job_id>": (Ask("finance", "generated", "/bills/jobs/{job}"),),
    # A bill's page lists its history and its payments.
    "bills/<int:pk>": (Ask("finance", "history", "/bills/{bill}"),),
    "customers": (
        Ask("sales", "customers", "/customers"),
        Ask("sales", "customers", "/customers?q=Customer"),
    ),
    # A customer's page lists its bills (every one, void ones too) and its terms versions.
    "customers/<int:pk>": (Ask("sales", "customer_bills", "/customers/{customer}"),),
    # A customer field's suggestions: at most 20 names holding the text, or a number's customer.
    "customers/suggest": (
        Ask("sales", "customers", "/customers/suggest?q=Customer"),
        Ask("sales", "customers", "/customers/suggest?q=1"),
    ),
    "usage": (
        Ask("finance", "month", f"/usage?{PAST}"),
        Ask("finance", "month", "/usage"),  # the month in progress: the projection
    ),
    # The record page's customer list (a <select> of every customer).
    "usage/record": (Ask("finance", "customers", "/usage/record"),),
    "usage/record/template.csv": (Ask("finance", "customers", "/usage/record/template.csv"),),
    # --- the JSON API ---
    "api/customers": (Ask("sales", "customers", "/api/customers?page_size=100"),),
    "api/customers/<int:pk>": (Ask("sales", "customer_bills", "/api/customers/{customer}"),),
    "api/usage": (Ask("sales", "usage", "/api/usage?page_size=100"),),
    "api/usage.csv": (Ask("sales", "usage", "/api/usage.csv"),),
    "api/usage/summary": (
        Ask("sales", "month", f"/api/usage/summary?{PAST}"),
        Ask("sales", "month", "/api/usage/summary"),
    ),
    "api/usage/<int:pk>/revisions": (
        Ask("sales", "revisions", "/api/usage/{usage}/revisions?page_size=100"),
    ),
    "api/bills": (
        Ask("finance", "bills", "/api/bills?page_size=100"),
        Ask("sales", "bills", "/api/bills?awaiting=me&page_size=100"),
        Ask("finance", "bills", f"/api/bills?{SENT_MONTH}&page_size=100"),
    ),
    "api/bills.csv": (Ask("finance", "bills", "/api/bills.csv"),),
    "api/bills/unbilled": (Ask("finance", "unbilled", "/api/bills/unbilled?page_size=100"),),
    "api/bills/awaiting": (Ask("sales", "bills", "/api/bills/awaiting"),),
    "api/jobs/<str:job_id>": (Ask("finance", "generated", "/api/jobs/{job}"),),
    "api/bills/<int:pk>": (Ask("finance", "history", "/api/bills/{bill}"),),
    # Previews write nothing and answer one outcome per bill.
    "api/bills/bulk/approve/preview": (
        Ask("sales", "bills", "/api/bills/bulk/approve/preview", "POST", "ids", BULK_BIG),
    ),
    "api/bills/bulk/reject/preview": (
        Ask("sales", "bills", "/api/bills/bulk/reject/preview", "POST", "ids", BULK_BIG),
    ),
    "api/bills/bulk/send/preview": (
        Ask("finance", "bills", "/api/bills/bulk/send/preview", "POST", "ids", BULK_BIG),
    ),
    # --- the admin's change lists (one group of routes, as in the access matrix) ---
    "admin/": (
        Ask("staff", "bills", "/admin/bills/bill/"),
        Ask("staff", "bills", "/admin/bills/billaction/"),
        Ask("staff", "bills", "/admin/bills/invoice/"),
        Ask("staff", "customers", "/admin/customers/customer/"),
        Ask("staff", "usage", "/admin/usage/usage/"),
        Ask("staff", "users", "/admin/accounts/user/"),
    ),
}

ACTION = "an action on one object: it lists nothing"
NOT_LISTS: dict[str, str] = {
    "": "redirects to the dashboard",
    "welcome": "the login and sign-up forms",
    "logout": "logs out",
    "profile": "one user's own profile",
    "bills/generate": "starts a month end (the job page lists its outcome)",
    "bills/<int:pk>/invoice": "one invoice document",
    "bills/<int:pk>/invoice.pdf": "one stored PDF",
    "bills/<int:pk>/credit-note.pdf": "one stored PDF",
    "bills/<int:pk>/send": "the send preview of one bill (POST: " + ACTION + ")",
    "bills/<int:pk>/send/preview.pdf": "one bill's invoice preview",
    "api/users": "sign up: POST only",
    "api/users/<int:pk>": "one user",
    "api/session": "the caller's session",
    "api/bills/generate": "starts a month end (GET /api/jobs/<id> lists its outcome)",
    "api/bills/bulk/approve": "acts on each bill by the single-bill service: a write per bill",
    "api/bills/bulk/reject": "acts on each bill by the single-bill service: a write per bill",
    "api/bills/bulk/send": "queues a job (its page lists the outcomes)",
    "api/schema/": "the OpenAPI document: no rows",
    "api/docs/": "the OpenAPI viewer: no rows",
    "healthz": "one SELECT 1",
    "health/live": "no query",
    "health/ready": "the worker's heartbeat",
    **{
        route: ACTION
        for route in (
            "bills/<int:pk>/approve",
            "bills/<int:pk>/reject",
            "bills/<int:pk>/revert",
            "bills/<int:pk>/update",
            "bills/<int:pk>/void",
            "bills/<int:pk>/rebill",
            "bills/<int:pk>/resend",
            "bills/<int:pk>/dismiss",
            "bills/<int:pk>/payments",
            "bills/<int:pk>/payments/<int:payment_id>/undo",
            "api/bills/<int:pk>/approve",
            "api/bills/<int:pk>/reject",
            "api/bills/<int:pk>/revert",
            "api/bills/<int:pk>/send",
            "api/bills/<int:pk>/void",
            "api/bills/<int:pk>/resend",
            "api/bills/<int:pk>/rebill",
            "api/bills/<int:pk>/dismiss",
            "api/bills/<int:pk>/payments",
            "api/bills/<int:pk>/payments/<int:payment_id>/undo",
        )
    },
}


def test_every_route_is_a_list_or_says_why():
    routes = url_conf_routes()
    named = set(LISTS) | set(NOT_LISTS)
    assert not set(LISTS) & set(NOT_LISTS), "a route is both a list and not one"
    assert not sorted(routes - named), f"routes in neither LISTS nor NOT_LISTS: {routes - named}"
    assert not sorted(named - routes), f"rows for no route: {sorted(named - routes)}"


def client_of(world: World, role: str, api: bool):
    user = world.users[role]
    if api:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {user.session_token}")
        return client
    client = Client()
    client.force_login(user)
    return client


def queries_of(world: World, ask: Ask) -> tuple[int, list[str], int | None]:
    """The SQL queries of one request of `ask` (a streamed answer read to its end), after one
    request to warm what a process caches once, and the answer's "count" when it has one."""
    api = ask.url.startswith("/api/")
    client = client_of(world, ask.role, api)
    url = world.fill(ask.url)
    body = {"ids": world.bill_ids[: ask.big]} if ask.body == "ids" else None

    def request():
        if ask.method == "POST":
            response = client.post(url, body, format="json")
        else:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if response.streaming:
            b"".join(response.streaming_content)
        return response

    request()
    with CaptureQueriesContext(connection) as captured:
        response = request()
    count = None
    if response.get("Content-Type", "").startswith("application/json"):
        body = response.json()
        count = body.get("count") if isinstance(body, dict) else None
    return len(captured), [q["sql"] for q in captured.captured_queries], count


ASKS = [
    pytest.param(ask, id=f"{route or '/'} {ask.url}")
    for route, asks in LISTS.items()
    for ask in asks
]


@pytest.mark.parametrize("ask", ASKS)
def test_a_list_asks_as_many_queries_at_1000_rows_as_at_10(ask):
    world = World()
    world.grow(ask.grows, SMALL)
    small, _, listed = queries_of(world, ask)
    world.grow(ask.grows, ask.big)
    big, sql, more = queries_of(world, ask)
    assert listed is None or more > listed, f"{ask.url}: the new rows are not in the list"
    assert big == small, f"{ask.url}: {small} queries at {SMALL} rows, {big} at {ask.big}:\n" + (
        "\n".join(sql)
    )
