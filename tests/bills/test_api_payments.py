"""POST /api/bills/{id}/payments and POST /api/bills/{id}/payments/{payment_id}/undo: Finance
records money received against a sent bill and undoes a payment; the answer is the bill with its
payments. The bill is Acme Corp's 2025-03 bill of USD 1,250.00, sent today."""

from __future__ import annotations

import pytest

from billing_site.core import periods
from bills.models import Payment, Status
from bills.services import payment_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(bill_in, customer):
    return bill_in(Status.SENT, customer=customer)


def today() -> str:
    return periods.today().isoformat()


def record(client, bill, **body):
    body = {"date": today(), "amount": "500.00", "reference": "BANK 77", **body}
    return client.post(f"/api/bills/{bill.pk}/payments", body, format="json")


def test_finance_records_a_partial_payment_and_gets_the_bill(sent, finance, api_as):
    response = record(api_as(finance), sent)
    assert response.status_code == 201, response.content
    body = response.json()
    [payment] = Payment.objects.all()
    assert {k: body[k] for k in ("id", "status", "amount_paid", "balance_due", "overdue")} == {
        "id": sent.pk,
        "status": "sent",
        "amount_paid": "500.00",
        "balance_due": "750.00",
        "overdue": False,
    }
    assert body["payments"] == [
        {
            "id": payment.pk,
            "date": today(),
            "amount": "500.00",
            "reference": "BANK 77",
            "recorded_by_id": finance.pk,
            "recorded_by_name": "fiona",
            "created_at": body["payments"][0]["created_at"],
            "counts": True,
            "undone_at": None,
            "undone_by_id": None,
            "undone_by_name": None,
            "undo_comment": "",
        }
    ]
    assert body["actions"][-1]["action"] == "payment_recorded"
    assert body["actions"][-1]["changes"]["reference"] == "BANK 77"


def test_the_rest_of_the_amount_makes_the_bill_paid(sent, finance, api_as):
    client = api_as(finance)
    record(client, sent)
    body = record(client, sent, amount="750.00", reference="BANK 78").json()
    assert (body["status"], body["amount_paid"], body["balance_due"]) == ("paid", "1250.00", "0.00")
    assert [p["reference"] for p in body["payments"]] == ["BANK 77", "BANK 78"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"amount": "1250.01"}, "amount", "USD\xa01,250.01 is more than the balance due"),
        ({"amount": "0"}, "amount", "Enter an amount above 0.00."),
        ({"amount": 12.5}, "amount", "Send the amount as a decimal string"),
        ({"amount": "1.234"}, "amount", "Use at most 2 decimal places (cents)."),
        ({"date": "2999-01-01"}, "date", "The date received cannot be in the future"),
        ({"date": "2025-04-01"}, "date", "The date received cannot be before the invoice"),
        ({"date": "01/04/2026"}, "date", "Date has wrong format."),
        ({"reference": ""}, "reference", "Enter the payment's reference"),
        ({"tip": "5.00"}, "tip", "Unknown field."),
    ],
)
def test_bad_input_is_a_400_naming_the_field(sent, finance, api_as, body, field, message):
    response = record(api_as(finance), sent, **body)
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)
    assert Payment.objects.count() == 0


def test_a_missing_field_is_a_400(sent, finance, api_as):
    response = api_as(finance).post(
        f"/api/bills/{sent.pk}/payments", {"amount": "5.00"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"date", "reference"}


@pytest.mark.parametrize("who", ["sales", "csm", "other_csm"])
def test_other_roles_are_refused(sent, users, api_as, who):
    response = record(api_as(users[who]), sent)
    assert response.status_code == 403
    assert response.json() == {
        "detail": f"Your role ({users[who].role}) may not record or undo payments."
    }


def test_anonymous_is_a_401(sent, anon):
    assert record(anon, sent).status_code == 401


@pytest.mark.parametrize("status", ["draft", "approved", "rejected", "void"])
def test_a_bill_that_is_not_sent_is_a_409(bill_in, customer, finance, api_as, status):
    bill = bill_in(status, customer=customer)
    response = record(api_as(finance), bill)
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Bill #{bill.pk} is {status}; only sent bills can be paid."
    }


def test_an_unknown_bill_is_a_404(finance, api_as):
    response = api_as(finance).post(
        "/api/bills/424242/payments",
        {"date": today(), "amount": "1.00", "reference": "x"},
        format="json",
    )
    assert response.status_code == 404


def test_get_is_not_allowed(sent, finance, api_as):
    assert api_as(finance).get(f"/api/bills/{sent.pk}/payments").status_code == 405


# --- undo ----------------------------------------------------------------------------------


def undo_url(bill, payment) -> str:
    return f"/api/bills/{bill.pk}/payments/{payment.pk}/undo"


def test_undo_keeps_the_payment_and_returns_a_paid_bill_to_sent(sent, finance, api_as):
    payment = payment_record(
        bill=sent, user=finance, date=today(), amount="1250.00", reference="BANK 77"
    )
    response = api_as(finance).post(undo_url(sent, payment), {"comment": "Bounced."}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["amount_paid"], body["balance_due"]) == ("sent", "0.00", "1250.00")
    [shown] = body["payments"]
    assert {k: shown[k] for k in ("id", "counts", "undone_by_id", "undone_by_name")} == {
        "id": payment.pk,
        "counts": False,
        "undone_by_id": finance.pk,
        "undone_by_name": "fiona",
    }
    assert shown["undo_comment"] == "Bounced."
    last = body["actions"][-1]
    assert (last["action"], last["from_status"], last["to_status"], last["comment"]) == (
        "payment_undone",
        "paid",
        "sent",
        "Bounced.",
    )


def test_undo_needs_a_comment(sent, finance, api_as):
    payment = payment_record(bill=sent, user=finance, date=today(), amount="5.00", reference="x")
    response = api_as(finance).post(undo_url(sent, payment), {"comment": " "}, format="json")
    assert response.status_code == 400
    assert response.json() == {"comment": ["A comment is required to undo a payment."]}


def test_undo_twice_is_a_409_and_another_bills_payment_a_404(sent, bill_in, finance, api_as):
    client = api_as(finance)
    payment = payment_record(bill=sent, user=finance, date=today(), amount="5.00", reference="x")
    assert client.post(undo_url(sent, payment), {"comment": "a"}, format="json").status_code == 200
    again = client.post(undo_url(sent, payment), {"comment": "b"}, format="json")
    assert again.status_code == 409
    other = bill_in(Status.SENT)
    response = client.post(undo_url(other, payment), {"comment": "c"}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": f"There is no payment #{payment.pk} on bill #{other.pk}."}


def test_sales_may_not_undo(sent, finance, sales, api_as):
    payment = payment_record(bill=sent, user=finance, date=today(), amount="5.00", reference="x")
    response = api_as(sales).post(undo_url(sent, payment), {"comment": "No."}, format="json")
    assert response.status_code == 403
    assert Payment.objects.get().counts


def test_the_schema_documents_both_endpoints(db, anon):
    paths = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    record_op = paths["/api/bills/{id}/payments"]["post"]
    undo_op = paths["/api/bills/{id}/payments/{payment_id}/undo"]["post"]
    assert {"201", "400", "401", "403", "404", "409"} <= set(record_op["responses"])
    assert {"200", "400", "401", "403", "404", "409"} <= set(undo_op["responses"])
