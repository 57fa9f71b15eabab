"""Bills over HTTP: the JSON shape, list and filters, detail with history, and every action with
its happy path and its documented errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from bills.models import Action, Bill, Status
from bills.services import bill_approve
from tests.factories import MONTH, YEAR, CustomerFactory, UserFactory, make_bill
from tests.tasks import tasks_run
from usage.models import Usage

BILL_KEYS = {
    "id",
    "customer_id",
    "customer_name",
    "year",
    "month",
    "api_usage",
    "monthly_api_limit",
    "overage_units",
    "overage_unit_cost",
    "overage_amount",
    "currency",
    "status",
    "approvals_needed",
    "invoice_number",
    "issued_on",
    "due_on",
    "amount_paid",
    "balance_due",
    "overdue",
    "credit_note_number",
    "replaces_id",
    "replaced_by_id",
    "created_at",
    "updated_at",
    "usage_changed",
    "terms_changed",
    "usage_changed_after_sending",
    "usage_difference",
    "computed_at",
    "version",
}
ACTION_KEYS = {
    "id",
    "action",
    "stakeholder_id",
    "stakeholder_name",
    "stakeholder_role",
    "comment",
    "from_status",
    "to_status",
    "created_at",
    "changes",
}


@pytest.fixture
def acme_bill(bill_in, customer):
    """acme_bill("approved") -> a bill of `customer` (Acme Corp, CSM casey) for YEAR-MONTH."""

    def make(status: str = Status.DRAFT, **kwargs) -> Bill:
        return bill_in(status, customer=customer, **kwargs)

    return make


# --- shape ---------------------------------------------------------------------------------


def test_bill_json_has_exactly_the_documented_fields(finance, api_as, acme_bill, customer):
    bill = acme_bill(api_usage=1_000_401)
    body = api_as(finance).get("/api/bills").json()["results"][0]
    assert set(body) == BILL_KEYS
    assert body == {
        "id": bill.pk,
        "customer_id": customer.pk,
        "customer_name": "Acme Corp",
        "year": YEAR,
        "month": MONTH,
        "api_usage": 1_000_401,
        "monthly_api_limit": 1_000_000,
        "overage_units": 401,
        "overage_unit_cost": "0.002500",
        "overage_amount": "1.00",
        "currency": "USD",
        "status": "draft",
        "approvals_needed": 1,
        "invoice_number": None,
        "issued_on": None,
        "due_on": None,
        "amount_paid": "0.00",
        "balance_due": None,
        "overdue": False,
        "credit_note_number": None,
        "replaces_id": None,
        "replaced_by_id": None,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "usage_changed": False,
        "terms_changed": False,
        "usage_changed_after_sending": False,
        "usage_difference": 0,
        "computed_at": body["computed_at"],
        "version": 1,
    }
    assert body["created_at"].startswith(f"{bill.created_at:%Y-%m-%dT%H:%M}")


def test_64_bit_counts_are_json_numbers_and_money_is_exact(finance, api_as):
    huge = CustomerFactory(monthly_api_limit=0, overage_unit_cost=Decimal("0.000001"))
    bill = make_bill(customer=huge, finance=finance, api_usage=2**63 - 1, year=YEAR, month=MONTH)
    response = api_as(finance).get(f"/api/bills/{bill.pk}")
    assert b'"api_usage":9223372036854775807' in response.content
    assert response.json()["overage_amount"] == "9223372036854.78"


def test_usage_changed_says_when_usage_moved_after_billing(finance, api_as, acme_bill, customer):
    bill = acme_bill()
    Usage.objects.filter(customer=customer, year=YEAR, month=MONTH).update(api_usage=3_000_000)
    assert api_as(finance).get(f"/api/bills/{bill.pk}").json()["usage_changed"] is True


# --- list ----------------------------------------------------------------------------------


def test_bills_are_listed_newest_period_first(finance, api_as, customer):
    for year, month in [(2025, 1), (2025, 3), (2024, 12), (2025, 2)]:
        make_bill(customer=customer, finance=finance, year=year, month=month)
    results = api_as(finance).get("/api/bills").json()["results"]
    assert [(b["year"], b["month"]) for b in results] == [
        (2025, 3),
        (2025, 2),
        (2025, 1),
        (2024, 12),
    ]


@pytest.fixture
def spread_of_bills(finance, sales, customer):
    """Bills across customers, months and statuses; returns {label: bill}."""
    other = CustomerFactory(name="Globex")
    bills = {
        "acme-2025-03": make_bill(customer=customer, finance=finance, year=2025, month=3),
        "acme-2025-02": make_bill(customer=customer, finance=finance, year=2025, month=2),
        "globex-2025-03": make_bill(customer=other, finance=finance, year=2025, month=3),
        "globex-2024-03": make_bill(customer=other, finance=finance, year=2024, month=3),
    }
    bills["acme-2025-02"] = bill_approve(bill=bills["acme-2025-02"], user=sales)
    return bills


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=approved", ["acme-2025-02"]),
        ("status=draft", ["acme-2025-03", "globex-2025-03", "globex-2024-03"]),
        ("year=2025", ["acme-2025-03", "globex-2025-03", "acme-2025-02"]),
        ("month=3", ["acme-2025-03", "globex-2025-03", "globex-2024-03"]),
        ("year=2025&month=3", ["acme-2025-03", "globex-2025-03"]),
        ("status=draft&year=2024", ["globex-2024-03"]),
        ("status=void", []),
        ("status=", ["acme-2025-03", "globex-2025-03", "acme-2025-02", "globex-2024-03"]),
        ("customer=GLOB", ["globex-2025-03", "globex-2024-03"]),
        ("customer=acme+corp&status=draft", ["acme-2025-03"]),
        ("customer=%20acme%20", ["acme-2025-03", "acme-2025-02"]),
        ("customer=", ["acme-2025-03", "globex-2025-03", "acme-2025-02", "globex-2024-03"]),
        ("period=2025-03", ["acme-2025-03", "globex-2025-03"]),
        ("period=2024-03", ["globex-2024-03"]),
        ("period=2025-03&customer=globex", ["globex-2025-03"]),
        ("period=2025-01", []),
        ("sort=customer", ["acme-2025-03", "acme-2025-02", "globex-2025-03", "globex-2024-03"]),
        ("sort=oldest", ["acme-2025-03", "acme-2025-02", "globex-2025-03", "globex-2024-03"]),
        ("sort=oldest&status=draft", ["acme-2025-03", "globex-2025-03", "globex-2024-03"]),
        ("sort=", ["acme-2025-03", "globex-2025-03", "acme-2025-02", "globex-2024-03"]),
    ],
)
def test_bill_filters(finance, api_as, spread_of_bills, query, expected):
    response = api_as(finance).get(f"/api/bills?{query}")
    assert response.status_code == 200
    ids = [spread_of_bills[label].pk for label in expected]
    assert [b["id"] for b in response.json()["results"]] == ids
    assert response.json()["count"] == len(expected)


def test_bills_sorted_by_amount_are_largest_first(finance, api_as, customer):
    globex = CustomerFactory(name="Globex")
    make_bill(customer=customer, finance=finance, year=2025, month=3, api_usage=1_100_000)
    make_bill(customer=globex, finance=finance, year=2025, month=1, api_usage=1_900_000)
    make_bill(customer=globex, finance=finance, year=2025, month=2, api_usage=1_500_000)
    results = api_as(finance).get("/api/bills?sort=amount").json()["results"]
    assert [b["overage_amount"] for b in results] == ["2250.00", "1250.00", "250.00"]


def test_bill_filter_by_customer(finance, api_as, spread_of_bills, customer):
    results = api_as(finance).get(f"/api/bills?customer_id={customer.pk}").json()["results"]
    assert {b["customer_name"] for b in results} == {"Acme Corp"}
    assert len(results) == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=settled", "status"),
        ("year=twenty", "year"),
        ("year=1999", "year"),
        ("month=13", "month"),
        ("month=0", "month"),
        ("customer_id=-1", "customer_id"),
        ("customer_id=99999999999999999999999", "customer_id"),
        ("customer=" + "x" * 201, "customer"),
        ("customer=ac%00me", "customer"),
        ("period=2025-13", "period"),
        ("period=2025-3", "period"),
        ("period=1999-12", "period"),
        ("period=soon", "period"),
        ("sort=cheapest", "sort"),
        ("sort=-amount", "sort"),
    ],
)
def test_bad_bill_filter_is_a_400_naming_it(finance, api_as, query, field):
    response = api_as(finance).get(f"/api/bills?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


# --- detail --------------------------------------------------------------------------------


def test_bill_detail_has_its_history_oldest_first(finance, sales, csm, api_as, acme_bill):
    bill = acme_bill(Status.REJECTED)
    api_as(csm).patch(f"/api/bills/{bill.pk}/revert", {"comment": "Let's look again."})
    body = api_as(finance).get(f"/api/bills/{bill.pk}").json()
    assert set(body) == BILL_KEYS | {"actions", "payments", "deliveries"}
    actions = body["actions"]
    assert all(set(a) == ACTION_KEYS for a in actions)
    steps = [
        (a["action"], a["stakeholder_name"], a["from_status"], a["to_status"]) for a in actions
    ]
    assert steps == [
        ("created", "fiona", None, "draft"),
        ("rejected", "sam", "draft", "rejected"),
        ("reverted", "casey", "rejected", "draft"),
    ]
    assert actions[1]["comment"] == "Not this month."
    assert actions[2]["stakeholder_id"] == csm.pk
    assert actions[2]["changes"] == {"undone": "rejection"}


@pytest.mark.parametrize("pk", ["999999", "9" * 30])
def test_unknown_bill_is_a_404(finance, api_as, pk):
    response = api_as(finance).get(f"/api/bills/{pk}")
    assert response.status_code == 404
    assert response.json() == {"detail": f"Bill #{int(pk)} does not exist."}


@pytest.mark.parametrize("action", ["approve", "reject", "revert", "send", "void", ""])
def test_action_on_unknown_bill_is_a_404(users, api_as, action):
    user = users["finance"] if action in ("send", "void", "") else users["sales"]
    body = {} if action == "send" else {"comment": "x"}
    response = api_as(user).patch(f"/api/bills/{'9' * 25}/{action}".rstrip("/"), body)
    assert response.status_code == 404
    assert "does not exist" in response.json()["detail"]


# --- create --------------------------------------------------------------------------------


def test_finance_creates_a_bill(finance, api_as, customer):
    Usage.objects.create(customer=customer, year=YEAR, month=MONTH, api_usage=1_200_000)
    response = api_as(finance).post(
        "/api/bills", {"customer_id": customer.pk, "year": YEAR, "month": MONTH}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["overage_units"] == 200_000
    assert body["overage_amount"] == "500.00"
    assert body["status"] == "draft"
    assert [a["action"] for a in body["actions"]] == ["created"]
    assert Bill.objects.get(pk=body["id"]).customer == customer


def test_creating_a_bill_twice_is_a_409(finance, api_as, acme_bill, customer):
    acme_bill()
    response = api_as(finance).post(
        "/api/bills", {"customer_id": customer.pk, "year": YEAR, "month": MONTH}
    )
    assert response.status_code == 409
    assert "already has bill" in response.json()["detail"]


def test_a_voided_month_may_be_billed_again(finance, api_as, acme_bill, customer):
    acme_bill(Status.VOID)
    response = api_as(finance).post(
        "/api/bills", {"customer_id": customer.pk, "year": YEAR, "month": MONTH}
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("usage", "year", "month", "field", "words"),
    [
        (900_000, YEAR, MONTH, "customer_id", "No overage"),
        (2_000_000, 2999, 12, "month", "has not ended"),
        (2_000_000, 2019, 6, "month", "not under contract"),
    ],
    ids=["no-overage", "month-not-ended", "not-under-contract"],
)
def test_bill_that_cannot_be_made_is_a_400_with_the_reason(
    finance, api_as, customer, usage, year, month, field, words
):
    Usage.objects.create(customer=customer, year=YEAR, month=MONTH, api_usage=usage)
    response = api_as(finance).post(
        "/api/bills", {"customer_id": customer.pk, "year": year, "month": month}
    )
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert words in response.json()[field][0]
    assert not Bill.objects.exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"customer_id", "year", "month"}),
        ({"customer_id": 999999, "year": YEAR, "month": MONTH}, {"customer_id"}),
        ({"customer_id": "one", "year": YEAR, "month": MONTH}, {"customer_id"}),
        ({"customer_id": 1, "year": YEAR, "month": 13}, {"month"}),
        ({"customer_id": 1, "year": YEAR, "month": MONTH, "amount": "9.99"}, {"amount"}),
    ],
    ids=["empty", "unknown-customer", "not-a-number", "month-13", "unknown-field"],
)
def test_bad_bill_create_body_is_a_400_naming_fields(finance, api_as, body, fields):
    response = api_as(finance).post("/api/bills", body)
    assert response.status_code == 400
    assert set(response.json()) == fields


# --- generate ------------------------------------------------------------------------------


def _generated(client, data):
    """Start a month end (202 and its job), let the worker run it, and GET the job."""
    started = client.post("/api/bills/generate", data)
    assert started.status_code == 202, started.content
    job = started.json()
    assert job["status"] == "queued" and started["Location"] == f"/api/jobs/{job['id']}"
    tasks_run()
    return client.get(f"/api/jobs/{job['id']}")


def test_a_job_is_finances_alone_and_a_bad_id_is_a_404(finance, sales, api_as, customer):
    Usage.objects.create(customer=customer, year=YEAR, month=MONTH, api_usage=1_500_000)
    job = api_as(finance).post("/api/bills/generate", {"year": YEAR, "month": MONTH}).json()
    assert api_as(sales).get(f"/api/jobs/{job['id']}").status_code == 403
    assert api_as(finance).get("/api/jobs/nope").status_code == 404
    assert api_as(finance).get(f"/api/jobs/{job['id']}").json()["result"] is None


def test_generate_bills_a_month_and_is_idempotent(finance, api_as, customer):
    quiet = CustomerFactory(name="Quiet Co")
    Usage.objects.create(customer=customer, year=YEAR, month=MONTH, api_usage=1_500_000)
    Usage.objects.create(customer=quiet, year=YEAR, month=MONTH, api_usage=10)
    client = api_as(finance)

    first = _generated(client, {"year": YEAR, "month": MONTH})
    second = _generated(client, {"year": YEAR, "month": MONTH})

    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == "succeeded"
    assert first.json()["processed"] == first.json()["total"] == 2
    assert first.json()["result"] == {
        "created": 1,
        "skipped": 1,
        "skipped_reasons": {"no overage": 1},
        "skipped_customers": {"no overage": [{"id": quiet.pk, "name": "Quiet Co"}]},
    }
    assert second.json()["result"] == {
        "created": 0,
        "skipped": 2,
        "skipped_reasons": {"no overage": 1, "already billed": 1},
        "skipped_customers": {
            "no overage": [{"id": quiet.pk, "name": "Quiet Co"}],
            "already billed": [{"id": customer.pk, "name": "Acme Corp"}],
        },
    }
    assert Bill.objects.get().customer == customer


def test_generating_a_month_that_has_not_ended_is_a_400(finance, api_as):
    response = api_as(finance).post("/api/bills/generate", {"year": 2999, "month": 1})
    assert response.status_code == 400
    assert "has not ended" in response.json()["month"][0]


def test_generate_refuses_unknown_fields(finance, api_as):
    response = api_as(finance).post("/api/bills/generate", {"year": YEAR, "month": 1, "dry": 1})
    assert response.status_code == 400
    assert response.json() == {"dry": ["Unknown field."]}


# --- decisions -----------------------------------------------------------------------------


def test_sales_approves_a_bill(sales, api_as, acme_bill):
    bill = acme_bill()
    response = api_as(sales).patch(f"/api/bills/{bill.pk}/approve", {"comment": "Fine."})
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert response.json()["approvals_needed"] == 0
    assert response.json()["actions"][-1]["comment"] == "Fine."


def test_approve_needs_no_body(sales, api_as, acme_bill):
    bill = acme_bill()
    response = api_as(sales).patch(f"/api/bills/{bill.pk}/approve")
    assert response.status_code == 200
    assert response.json()["status"] == "approved"


def test_bill_needing_two_approvals_stays_draft_after_one(sales, csm, api_as, finance):
    strict = CustomerFactory(name="Strict Inc", csm=csm, require_csm_approval=True)
    bill = make_bill(customer=strict, finance=finance, year=YEAR, month=MONTH)
    first = api_as(sales).patch(f"/api/bills/{bill.pk}/approve", {})
    assert (first.json()["status"], first.json()["approvals_needed"]) == ("draft", 1)
    again = api_as(sales).patch(f"/api/bills/{bill.pk}/approve", {})
    assert again.status_code == 409
    second = api_as(csm).patch(f"/api/bills/{bill.pk}/approve", {})
    assert (second.json()["status"], second.json()["approvals_needed"]) == ("approved", 0)


def test_csm_of_another_customer_cannot_approve(other_csm, api_as, acme_bill):
    bill = acme_bill()
    response = api_as(other_csm).patch(f"/api/bills/{bill.pk}/approve", {})
    assert response.status_code == 403
    assert "Acme Corp" in response.json()["detail"]
    assert Bill.objects.get(pk=bill.pk).status == Status.DRAFT


def test_finance_cannot_approve(finance, api_as, acme_bill):
    bill = acme_bill()
    response = api_as(finance).patch(f"/api/bills/{bill.pk}/approve", {})
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role (Finance) may not approve bills."}


def test_reject_needs_a_comment(sales, api_as, acme_bill):
    bill = acme_bill()
    missing = api_as(sales).patch(f"/api/bills/{bill.pk}/reject", {})
    blank = api_as(sales).patch(f"/api/bills/{bill.pk}/reject", {"comment": "  "})
    assert missing.status_code == blank.status_code == 400
    assert list(missing.json()) == list(blank.json()) == ["comment"]
    assert Bill.objects.get(pk=bill.pk).status == Status.DRAFT


def test_sales_rejects_a_bill(sales, api_as, acme_bill):
    bill = acme_bill()
    response = api_as(sales).patch(f"/api/bills/{bill.pk}/reject", {"comment": "Goodwill."})
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.APPROVED, "approve"),
        (Status.SENT, "reject"),
        (Status.DRAFT, "revert"),
        (Status.DRAFT, "send"),
        (Status.APPROVED, "void"),
        (Status.SENT, ""),
    ],
)
def test_action_the_status_forbids_is_a_409(users, api_as, acme_bill, status, action):
    bill = acme_bill(status)
    user = users["finance"] if action in ("send", "void", "") else users["sales"]
    url = f"/api/bills/{bill.pk}/{action}".rstrip("/")
    response = api_as(user).patch(url, {} if action == "send" else {"comment": "Why not."})
    assert response.status_code == 409, response.content
    assert set(response.json()) == {"detail"}
    assert Bill.objects.get(pk=bill.pk).status == status


def test_revert_undoes_an_approval(csm, api_as, acme_bill):
    bill = acme_bill(Status.APPROVED)
    response = api_as(csm).patch(f"/api/bills/{bill.pk}/revert", {"comment": "Too early."})
    assert response.status_code == 200
    assert response.json()["status"] == "draft"
    assert response.json()["approvals_needed"] == 1


# --- corrections ---------------------------------------------------------------------------


def test_finance_reprices_a_bill(finance, api_as, acme_bill):
    bill = acme_bill(api_usage=1_100_000)
    response = api_as(finance).patch(
        f"/api/bills/{bill.pk}", {"comment": "Agreed discount.", "overage_unit_cost": "0.001"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["overage_unit_cost"], body["overage_amount"]) == ("0.001000", "100.00")
    assert body["actions"][-1]["changes"]["overage_unit_cost"] == ["0.002500", "0.001000"]


def test_finance_recomputes_a_rejected_bill_from_current_usage(
    finance, api_as, acme_bill, customer
):
    bill = acme_bill(Status.REJECTED)
    Usage.objects.filter(customer=customer, year=YEAR, month=MONTH).update(api_usage=1_000_100)
    response = api_as(finance).patch(f"/api/bills/{bill.pk}", {"comment": "Usage corrected."})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["overage_units"]) == ("draft", 100)
    assert response.json()["usage_changed"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"overage_unit_cost": "0.001"}, "comment"),
        ({"comment": "x", "overage_unit_cost": "cheap"}, "overage_unit_cost"),
        ({"comment": "x", "overage_unit_cost": "0.0000001"}, "overage_unit_cost"),
        ({"comment": "x", "overage_unit_cost": "-1"}, "overage_unit_cost"),
        ({"comment": "x", "overage_unit_cost": 0.001}, "overage_unit_cost"),
        ({"comment": "x", "overage_unit_cost": ["1"]}, "overage_unit_cost"),
        ({"comment": "x", "api_usage": 5}, "api_usage"),
        ({"comment": "nul\x00"}, "comment"),
    ],
    ids=["no-comment", "words", "7-places", "negative", "json-float", "list", "unknown", "nul"],
)
def test_bad_correction_is_a_400_naming_the_field(finance, api_as, acme_bill, body, field):
    bill = acme_bill()
    response = api_as(finance).patch(f"/api/bills/{bill.pk}", body)
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    assert Bill.objects.get(pk=bill.pk).overage_unit_cost == Decimal("0.0025")


# --- send and void -------------------------------------------------------------------------


def test_finance_sends_an_approved_bill_and_it_is_emailed(finance, api_as, acme_bill, customer):
    bill = acme_bill(Status.APPROVED)
    response = api_as(finance).patch(f"/api/bills/{bill.pk}/send")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "sent"
    [delivery] = response.json()["deliveries"]
    assert (delivery["status"], delivery["document"], delivery["to_email"]) == (
        "queued",
        "invoice",
        customer.billing_email,
    )
    assert mail.outbox == []
    tasks_run()
    assert [m.to for m in mail.outbox] == [[customer.billing_email]]
    again = api_as(finance).get(f"/api/bills/{bill.pk}").json()["deliveries"]
    assert [d["status"] for d in again] == ["delivered"]


def test_send_refuses_a_body_with_fields(finance, api_as, acme_bill):
    bill = acme_bill(Status.APPROVED)
    response = api_as(finance).patch(f"/api/bills/{bill.pk}/send", {"to": "me@example.com"})
    assert response.status_code == 400
    assert response.json() == {"to": ["Unknown field."]}


def test_a_failed_invoice_email_is_reported_on_the_bill_which_stays_sent(
    finance, api_as, acme_bill, settings
):
    bill = acme_bill(Status.APPROVED)
    settings.MAILERS = {"default": {"BACKEND": "tests.bills.failing_mail.FailingBackend"}}
    settings.DELIVERY_BACKOFF_SECONDS = 0
    response = api_as(finance).patch(f"/api/bills/{bill.pk}/send")
    assert response.status_code == 200
    tasks_run()
    body = api_as(finance).get(f"/api/bills/{bill.pk}").json()
    assert body["status"] == "sent"
    [delivery] = body["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("failed", settings.DELIVERY_MAX_ATTEMPTS)
    assert "refused the connection" in delivery["last_error"]
    assert body["actions"][-1]["action"] == Action.EMAIL_FAILED


def test_finance_resends_through_the_api_and_others_may_not(
    finance, sales, api_as, acme_bill, customer
):
    bill = acme_bill(Status.APPROVED)
    api_as(finance).patch(f"/api/bills/{bill.pk}/send")
    busy = api_as(finance).patch(f"/api/bills/{bill.pk}/resend")
    assert busy.status_code == 409  # its first email is still queued
    tasks_run()
    assert api_as(sales).patch(f"/api/bills/{bill.pk}/resend").status_code == 403
    response = api_as(finance).patch(f"/api/bills/{bill.pk}/resend")
    assert response.status_code == 200
    assert [d["status"] for d in response.json()["deliveries"]] == ["queued", "delivered"]
    tasks_run()
    assert [m.to for m in mail.outbox] == [[customer.billing_email]] * 2


def test_finance_voids_a_sent_bill(finance, api_as, acme_bill):
    bill = acme_bill(Status.SENT)
    response = api_as(finance).patch(f"/api/bills/{bill.pk}/void", {"comment": "Duplicate."})
    assert response.status_code == 200
    assert response.json()["status"] == "void"


def test_void_needs_a_comment(finance, api_as, acme_bill):
    bill = acme_bill(Status.SENT)
    response = api_as(finance).patch(f"/api/bills/{bill.pk}/void", {"comment": ""})
    assert response.status_code == 400
    assert list(response.json()) == ["comment"]


# --- history is read-only ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "delete", "post"])
def test_bill_cannot_be_replaced_deleted_or_posted_to(finance, api_as, acme_bill, method):
    bill = acme_bill()
    response = getattr(api_as(finance), method)(f"/api/bills/{bill.pk}", {})
    assert response.status_code == 405
    assert Bill.objects.filter(pk=bill.pk).exists()


def test_a_new_user_reading_bills_sees_the_stakeholder_by_name(api_as, acme_bill):
    bill = acme_bill()
    reader = UserFactory(name="reader", role="Sales")
    actions = api_as(reader).get(f"/api/bills/{bill.pk}").json()["actions"]
    assert actions[0]["stakeholder_name"] == "fiona"
