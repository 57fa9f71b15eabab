"""Who may call what: every endpoint against anonymous and each role, in one table.

`csm` manages the bill's customer; `other_csm` is a Customer Success user who does not.
Each case gets a fresh database, with the bill in the status the action needs, so a 200 here
means the role was allowed and the action really happened.
"""

from __future__ import annotations

import pytest

from billing_site.core import periods
from bills.models import Status
from bills.services import payment_record
from tests.factories import MONTH, YEAR, CustomerFactory
from usage.models import Usage

# endpoint: (anonymous, finance, sales, csm, other_csm)
MATRIX = {
    "GET /api/session": (401, 200, 200, 200, 200),
    "DELETE /api/session": (401, 204, 204, 204, 204),
    "GET /api/users/:id": (401, 200, 200, 200, 200),
    "GET /api/customers": (401, 200, 200, 200, 200),
    "GET /api/customers/:id": (401, 200, 200, 200, 200),
    "GET /api/usage": (401, 200, 200, 200, 200),
    "POST /api/usage": (401, 200, 403, 403, 403),
    "GET /api/usage.csv": (401, 200, 200, 200, 200),
    "GET /api/bills": (401, 200, 200, 200, 200),
    "GET /api/bills.csv": (401, 200, 200, 200, 200),
    "POST /api/bills": (401, 201, 403, 403, 403),
    "POST /api/bills/generate": (401, 202, 403, 403, 403),
    "GET /api/bills/:id": (401, 200, 200, 200, 200),
    "PATCH /api/bills/:id": (401, 200, 403, 403, 403),
    "PATCH /api/bills/:id/approve": (401, 403, 200, 200, 403),
    "PATCH /api/bills/:id/reject": (401, 403, 200, 200, 403),
    "PATCH /api/bills/:id/revert": (401, 403, 200, 200, 403),
    "PATCH /api/bills/:id/send": (401, 200, 403, 403, 403),
    "PATCH /api/bills/:id/void": (401, 200, 403, 403, 403),
    "POST /api/bills/:id/payments": (401, 201, 403, 403, 403),
    "POST /api/bills/:id/payments/:payment_id/undo": (401, 200, 403, 403, 403),
}
ROLE_ORDER = ("anonymous", "finance", "sales", "csm", "other_csm")
CASES = [
    pytest.param(endpoint, role, statuses[i], id=f"{endpoint}-{role}")
    for endpoint, statuses in MATRIX.items()
    for i, role in enumerate(ROLE_ORDER)
]


def _request(endpoint: str, *, customer, finance, bill_in):
    """(method, url, body) for the endpoint, with whatever it acts on in the right state."""
    method, _, path = endpoint.partition(" ")
    body = None
    if path == "/api/users/:id":
        path = f"/api/users/{finance.pk}"
    elif path == "/api/customers/:id":
        path = f"/api/customers/{customer.pk}"
    elif path == "/api/usage" and method == "POST":
        body = {"customer_id": customer.pk, "year": YEAR, "month": MONTH, "api_usage": 5}
    elif path == "/api/bills" and method == "POST":
        Usage.objects.create(customer=customer, year=YEAR, month=MONTH, api_usage=2_000_000)
        body = {"customer_id": customer.pk, "year": YEAR, "month": MONTH}
    elif path == "/api/bills/generate":
        body = {"year": YEAR, "month": MONTH}
    elif path.startswith("/api/bills/:id/payments"):
        bill = bill_in(Status.SENT, customer=customer)
        body = {"date": periods.today().isoformat(), "amount": "10.00", "reference": "TR-1"}
        if path.endswith("/undo"):
            payment = payment_record(bill=bill, user=finance, **body)
            path = path.replace(":payment_id", str(payment.pk))
            body = {"comment": "Bounced."}
        path = path.replace(":id", str(bill.pk))
    elif path.startswith("/api/bills/:id"):
        action = path.removeprefix("/api/bills/:id").lstrip("/")
        status = {
            "revert": Status.APPROVED,
            "send": Status.APPROVED,
            "void": Status.SENT,
        }.get(action, Status.DRAFT)
        bill = bill_in(status, customer=customer)
        path = path.replace(":id", str(bill.pk))
        if method == "PATCH":
            body = {"comment": "Checked with the customer."}
            if action in ("send",):
                body = {}
    return method.lower(), path, body


@pytest.mark.parametrize(("endpoint", "role", "expected"), CASES)
def test_access_matrix(endpoint, role, expected, client_for, customer, finance, bill_in):
    method, url, body = _request(endpoint, customer=customer, finance=finance, bill_in=bill_in)
    response = getattr(client_for(role), method)(url, body)
    assert response.status_code == expected, response.content
    if expected == 401:
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    if expected == 403:
        assert "may not" in response.json()["detail"]


def test_csm_of_a_customer_without_csm_may_approve_its_bills(api_as, other_csm, bill_in):
    orphan = CustomerFactory(name="Orphan Ltd", csm=None)
    bill = bill_in(customer=orphan)
    response = api_as(other_csm).patch(f"/api/bills/{bill.pk}/approve", {})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == Status.APPROVED


def test_sales_cannot_generate_bills(api_as, sales):
    response = api_as(sales).post("/api/bills/generate", {"year": YEAR, "month": MONTH})
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role (Sales) may not generate bills."}


def test_wrong_role_is_refused_before_its_input_is_read(api_as, sales):
    response = api_as(sales).post("/api/usage", [{"nonsense": True}])
    assert response.status_code == 403
