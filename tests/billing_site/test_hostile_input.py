"""Bodies a client can send that once answered 500: each is now a 400 (or the status SPEC names),
and nothing is written."""

from __future__ import annotations

import json

import pytest

from accounts.models import User
from bills.models import Action, Status
from usage.models import Usage

BIG_IDS = [2**63, 2**64, -(2**64), 10**30]


@pytest.mark.parametrize("cost", ["1e400", "1" + "0" * 40, 10**21])
def test_repricing_with_a_unit_cost_too_large_to_quantize_is_a_400(
    finance, api_as, bill_in, customer, cost
):
    bill = bill_in(Status.DRAFT, customer=customer)
    response = api_as(finance).patch(
        f"/api/bills/{bill.pk}", {"comment": "Reprice", "overage_unit_cost": cost}
    )
    assert response.status_code == 400, response.content
    assert "overage_unit_cost" in response.json()
    assert not bill.actions.filter(action=Action.UPDATED).exists()


@pytest.mark.parametrize("customer_id", BIG_IDS)
def test_a_usage_item_with_an_id_beyond_64_bits_is_a_400_naming_it(finance, api_as, customer_id):
    # SQLite cannot even bind such a number (OverflowError): it used to be a 500 there.
    item = {"customer_id": customer_id, "year": 2025, "month": 3, "api_usage": 1}
    response = api_as(finance).post("/api/usage", [item])
    assert response.status_code == 400, response.content
    assert list(response.json()["items"]["0"]) == ["customer_id"]
    assert not Usage.objects.exists()


def test_a_usage_item_with_a_huge_float_id_is_a_400(finance, api_as):
    body = '[{"customer_id": 1e300, "year": 2025, "month": 3, "api_usage": 1}]'
    response = api_as(finance).generic("POST", "/api/usage", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "customer_id" in response.json()["items"]["0"]


def test_creating_a_billed_month_whose_overage_is_gone_is_a_409(finance, api_as, bill_in, customer):
    bill = bill_in(Status.DRAFT, customer=customer)
    Usage.objects.filter(customer=bill.customer).update(api_usage=0)
    body = {"customer_id": bill.customer_id, "year": bill.year, "month": bill.month}
    response = api_as(finance).post("/api/bills", body)
    assert response.status_code == 409, response.content
    assert f"#{bill.pk}" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "", "email": "x", "role": "Boss", "password": "1"},
        {"unknown": True},
    ],
)
def test_signup_turned_off_is_a_403_whatever_the_body_says(db, anon, settings, body):
    settings.ALLOW_SIGNUP = False
    response = anon.post("/api/users", body)
    assert response.status_code == 403, response.content
    assert "turned off" in response.json()["detail"]
    assert not User.objects.exists()


def test_signup_turned_off_is_a_403_for_a_non_object_body(db, anon, settings):
    settings.ALLOW_SIGNUP = False
    response = anon.generic("POST", "/api/users", json.dumps([1]), content_type="application/json")
    assert response.status_code == 403
