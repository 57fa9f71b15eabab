"""A month end done by an outside client that knows only SPEC.md and HTTP: JSON bodies, Bearer
tokens, no cookies. docs/api.md walks through the same steps with curl."""

from __future__ import annotations

import json

from django.core import mail
from django.test import Client

from accounts.models import Role
from billing_site.core import periods
from tests.factories import CustomerFactory, UserFactory
from tests.tasks import tasks_run


def call(method: str, url: str, body=None, token: str | None = None):
    """One request from a fresh client: no cookie ever carries over, only the token."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = json.dumps(body) if body is not None else ""
    response = getattr(Client(), method)(
        url, data, content_type="application/json", headers=headers
    )
    return response.status_code, (response.json() if response.content else None)


def test_month_end_over_http_with_bearer_tokens_only(db, password):
    UserFactory(name="sam", role=Role.SALES)
    casey = UserFactory(name="casey", role=Role.CUSTOMER_SUCCESS)
    CustomerFactory(name="Acme Corp", csm=casey, require_csm_approval=True)
    CustomerFactory(name="Globex", csm=casey, monthly_api_limit=500_000)
    CustomerFactory(name="Quiet Co")
    year, month = periods.last_ended_month()

    # Finance signs up, then logs in for a token.
    status, me = call(
        "post",
        "/api/users",
        {"name": "fran", "email": "fran@example.com", "role": "Finance", "password": password},
    )
    assert (status, me["role"]) == (201, "Finance")
    status, session = call("post", "/api/session", {"name": "fran", "password": password})
    assert status == 200
    fran = session["token"]
    assert call("get", "/api/session", token=fran) == (200, me)

    # Finance looks up the customers and records the month's usage in one batch.
    status, customers = call("get", "/api/customers", token=fran)
    ids = {c["name"]: c["id"] for c in customers["results"]}
    usage = [
        {"customer_id": ids["Acme Corp"], "year": year, "month": month, "api_usage": 1_250_000},
        {"customer_id": ids["Globex"], "year": year, "month": month, "api_usage": 600_000},
        {"customer_id": ids["Quiet Co"], "year": year, "month": month, "api_usage": 10},
    ]
    assert call("post", "/api/usage", usage, token=fran) == (
        200,
        {"created": 3, "updated": 0, "unchanged": 0},
    )

    # Finance starts the month end (the worker runs it) and reads its job: two customers have
    # overage.
    status, job = call("post", "/api/bills/generate", {"year": year, "month": month}, fran)
    assert (status, job["status"]) == (202, "queued")
    tasks_run()  # what the worker does
    status, job = call("get", f"/api/jobs/{job['id']}", token=fran)
    assert (status, job["status"], job["result"]["created"], job["result"]["skipped"]) == (
        200,
        "succeeded",
        2,
        1,
    )
    status, drafts = call("get", f"/api/bills?status=draft&year={year}&month={month}", token=fran)
    bills = {b["customer_name"]: b for b in drafts["results"]}
    acme, globex = bills["Acme Corp"]["id"], bills["Globex"]["id"]
    assert bills["Acme Corp"]["overage_amount"] == "625.00"  # 250,000 calls x 0.0025
    assert bills["Acme Corp"]["approvals_needed"] == 2

    # Sales and the CSM log in; Acme needs both approvals, Globex is written off.
    sam = call("post", "/api/session", {"name": "sam", "password": password})[1]["token"]
    casey_token = call("post", "/api/session", {"name": "casey", "password": password})[1]["token"]
    status, bill = call("patch", f"/api/bills/{acme}/approve", {"comment": "OK"}, sam)
    assert (status, bill["status"], bill["approvals_needed"]) == (200, "draft", 1)
    status, bill = call("patch", f"/api/bills/{acme}/approve", {}, casey_token)
    assert (status, bill["status"]) == (200, "approved")
    status, bill = call(
        "patch", f"/api/bills/{globex}/reject", {"comment": "Migration spike."}, casey_token
    )
    assert (status, bill["status"]) == (200, "rejected")

    # Finance sends the approved bill; the worker emails the invoice to the customer.
    status, bill = call("patch", f"/api/bills/{acme}/send", None, fran)
    assert (status, bill["status"], bill["deliveries"][0]["status"]) == (200, "sent", "queued")
    tasks_run()
    assert len(mail.outbox) == 1

    # Anyone reads the history, oldest first.
    status, bill = call("get", f"/api/bills/{acme}", token=sam)
    assert [(a["action"], a["stakeholder_name"]) for a in bill["actions"]] == [
        ("created", "fran"),
        ("approved", "sam"),
        ("approved", "casey"),
        ("sent", "fran"),
        ("email_queued", "fran"),
        ("email_delivered", "fran"),
    ]
    assert bill["deliveries"][0]["status"] == "delivered"

    # Logging out ends the token.
    assert call("delete", "/api/session", token=fran) == (204, None)
    assert call("get", "/api/bills", token=fran)[0] == 401
