"""POST /api/bills/bulk/{approve,reject,send} and their /preview: ids in, one outcome per id
out; the body's ids are JSON integers; a role with no such action is a 403."""

from __future__ import annotations

import pytest
from django.core import mail

from bills.models import Bill, BillAction, DocumentSequence, Invoice, Status
from bills.services import bill_approve
from tests.factories import MONTH, YEAR, make_bill
from tests.tasks import tasks_run

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


def draft(finance, **customer_fields) -> Bill:
    return make_bill(finance=finance, year=YEAR, month=MONTH, **customer_fields)


def test_bulk_approve_answers_one_outcome_per_id(api_as, finance, sales, csm):
    ready = draft(finance, name="Alpha", csm=csm)
    approved = bill_approve(bill=draft(finance, name="Bravo"), user=sales)
    response = api_as(sales).post(
        "/api/bills/bulk/approve",
        {"ids": [ready.pk, approved.pk, MISSING], "comment": "Checked."},
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "id": ready.pk,
                "outcome": "approved",
                "status": "approved",
                "detail": "Approved: it waits for Finance to send it.",
            },
            {
                "id": approved.pk,
                "outcome": "skipped",
                "status": "approved",
                "detail": "wrong status (approved)",
            },
            {"id": MISSING, "outcome": "skipped", "status": None, "detail": "not found"},
        ],
        "counts": {"approved": 1, "skipped": 2, "failed": 0},
    }
    assert BillAction.objects.get(bill=ready, action="approved").comment == "Checked."


def test_bulk_reject_needs_the_comment(api_as, finance, sales):
    bill = draft(finance)
    url = "/api/bills/bulk/reject"
    response = api_as(sales).post(url, {"ids": [bill.pk]}, format="json")
    assert response.status_code == 400
    assert response.json() == {"comment": ["A comment is required to reject bills."]}
    response = api_as(sales).post(url, {"ids": [bill.pk], "comment": "Outage."}, format="json")
    assert response.json()["results"][0]["outcome"] == "rejected"
    assert Bill.objects.get(pk=bill.pk).status == Status.REJECTED


def test_bulk_send_runs_in_the_worker_and_mails_the_invoices(api_as, finance, sales):
    bill = bill_approve(bill=draft(finance, billing_email="ap@acme.example"), user=sales)
    response = api_as(finance).post("/api/bills/bulk/send", {"ids": [bill.pk]}, format="json")
    assert response.status_code == 202
    job = response.json()
    assert (job["kind"], job["status"], job["total"], job["processed"]) == (
        "bulk_send",
        "queued",
        1,
        0,
    )
    assert response["Location"] == f"/api/jobs/{job['id']}"
    bill.refresh_from_db()
    assert bill.status == "approved"  # nothing is sent in the request
    tasks_run()  # the bulk send, then the invoice email it queued
    job = api_as(finance).get(f"/api/jobs/{job['id']}").json()
    assert (job["status"], job["processed"]) == ("succeeded", 1)
    assert job["result"] == {
        "results": [
            {
                "id": bill.pk,
                "outcome": "sent",
                "status": "sent",
                "detail": "Sent; its invoice email to ap@acme.example is queued.",
            }
        ],
        "counts": {"sent": 1, "skipped": 0, "failed": 0},
    }
    assert [m.to for m in mail.outbox] == [["ap@acme.example"]]
    assert api_as(sales).get(f"/api/jobs/{job['id']}").status_code == 403


def test_send_takes_no_comment(api_as, finance, sales):
    bill = bill_approve(bill=draft(finance), user=sales)
    response = api_as(finance).post(
        "/api/bills/bulk/send", {"ids": [bill.pk], "comment": "hi"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"comment": ["Unknown field."]}


@pytest.mark.parametrize(
    ("ids", "errors"),
    [
        ([], {"ids": ["Choose at least one bill id."]}),
        ("1,2", {"ids": ['Expected a list of items but got type "str".']}),
        (None, {"ids": ["This field may not be null."]}),
        (
            [1, 2.0],
            {
                "ids": [
                    "item 2: Enter a whole number as a JSON integer, not the decimal number 2.0."
                ]
            },
        ),
        # An item's error is "item N: ..." in the documented {field: [texts]} (found by fuzzing).
        ([True], {"ids": ["item 1: Enter a whole number as a JSON integer, not true."]}),
        (["7"], {"ids": ['item 1: Enter a whole number as a JSON integer, not the string "7".']}),
        ([0], {"ids": ["item 1: Enter an id from 1 to 9223372036854775807."]}),
        (
            list(range(1, 502)),
            {"ids": ["At most 500 bill ids at a time; send them in smaller groups."]},
        ),
    ],
)
def test_bad_ids_are_a_400_naming_ids(api_as, sales, ids, errors):
    for url in ("/api/bills/bulk/approve", "/api/bills/bulk/approve/preview"):
        response = api_as(sales).post(url, {"ids": ids}, format="json")
        assert (response.status_code, response.json()) == (400, errors)


def test_ids_are_required(api_as, sales):
    response = api_as(sales).post("/api/bills/bulk/approve", {}, format="json")
    assert (response.status_code, response.json()) == (400, {"ids": ["This field is required."]})


@pytest.mark.parametrize(
    ("role", "action", "detail"),
    [
        ("finance", "approve", "Your role (Finance) may not approve bills."),
        ("finance", "reject", "Your role (Finance) may not reject bills."),
        ("sales", "send", "Your role (Sales) may not send bills."),
        ("csm", "send", "Your role (Customer Success) may not send bills."),
    ],
)
def test_a_role_with_no_such_action_is_a_403(users, api_as, bill, role, action, detail):
    for url in (f"/api/bills/bulk/{action}", f"/api/bills/bulk/{action}/preview"):
        # The role is refused before the body is read: even a bad body gets the 403.
        for body in ({"ids": [bill.pk], "comment": "x"}, {"ids": "junk"}):
            response = api_as(users[role]).post(url, body, format="json")
            assert (response.status_code, response.json()) == (403, {"detail": detail})
    assert BillAction.objects.filter(bill=bill).count() == 1


def test_the_wrong_csm_is_told_per_bill(api_as, other_csm, bill):
    response = api_as(other_csm).post("/api/bills/bulk/approve", {"ids": [bill.pk]}, format="json")
    assert response.json()["results"] == [
        {"id": bill.pk, "outcome": "skipped", "status": "draft", "detail": "not yours"}
    ]


def test_anonymous_is_a_401(anon, bill):
    for url in ("/api/bills/bulk/approve", "/api/bills/bulk/send/preview"):
        assert anon.post(url, {"ids": [bill.pk]}, format="json").status_code == 401


def test_only_post(api_as, sales):
    assert api_as(sales).get("/api/bills/bulk/approve").status_code == 405
    assert api_as(sales).post("/api/bills/bulk/revert", {"ids": [1]}).status_code == 404


def test_the_preview_answers_what_would_happen_and_writes_nothing(api_as, finance, sales, csm):
    ok = bill_approve(bill=draft(finance, name="Alpha"), user=sales)
    # 10 calls over at 0.333333 = 3.33333 -> 3.33
    cents = bill_approve(
        bill=draft(finance, name="Bravo", api_usage=1_000_010, overage_unit_cost="0.333333"),
        user=sales,
    )
    not_yet = draft(finance, name="Charlie")
    rows = BillAction.objects.count()
    response = api_as(finance).post(
        "/api/bills/bulk/send/preview", {"ids": [ok.pk, cents.pk, not_yet.pk]}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {
        "action": "send",
        "count": 2,
        "totals": [{"currency": "USD", "count": 2, "amount": "1253.33"}],
        "results": [
            {
                "id": ok.pk,
                "outcome": "ready",
                "status": "approved",
                "detail": f"Will be emailed to {ok.customer.billing_email}.",
            },
            {
                "id": cents.pk,
                "outcome": "ready",
                "status": "approved",
                "detail": f"Will be emailed to {cents.customer.billing_email}.",
            },
            {
                "id": not_yet.pk,
                "outcome": "skipped",
                "status": "draft",
                "detail": "wrong status (draft)",
            },
        ],
        "counts": {"ready": 2, "skipped": 1},
    }
    assert BillAction.objects.count() == rows
    assert (Invoice.objects.count(), DocumentSequence.objects.count(), mail.outbox) == (0, 0, [])
    assert Bill.objects.get(pk=ok.pk).status == Status.APPROVED


def test_the_session_needs_csrf(sales, bill):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(sales)
    response = client.post("/api/bills/bulk/approve", {"ids": [bill.pk]}, format="json")
    assert response.status_code == 403
    assert Bill.objects.get(pk=bill.pk).status == Status.DRAFT


def test_the_schema_documents_the_bulk_endpoints(api_as, sales):
    schema = api_as(sales).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for action in ("approve", "reject", "send"):
        for path in (f"/api/bills/bulk/{action}", f"/api/bills/bulk/{action}/preview"):
            assert set(schema["paths"][path]) == {"post"}
    send = schema["paths"]["/api/bills/bulk/send"]["post"]
    assert send["summary"] == "Bulk send (Finance)"
    assert set(send["responses"]) == {"202", "400", "401", "403", "413", "415"}
