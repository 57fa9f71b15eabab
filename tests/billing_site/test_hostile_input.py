"""Bodies a client can send that once answered 500: each is now a 400 (or the status SPEC names),
and nothing is written."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlencode

import pytest

from accounts.models import User
from bills.models import Action, Bill, Status
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


# --- whole numbers: every integer input ------------------------------------------------------
#
# SPEC "Data": counts are integers; a JSON float, bool or string for an integer field is a 400,
# never rounded. Query strings are text: ASCII digits only. The tables below are every integer
# input of the API; the page forms' are in tests/bills/test_views_generate.py (year) and
# tests/usage/test_views.py (record usage). The parser itself: tests/core/test_numbers.py.

MAX = 2**63 - 1


def _not_json_integer(sent: str) -> str:
    return f"Enter a whole number as a JSON integer, not {sent}."


def _not_digits(typed: str) -> str:
    return f"“{typed}” is not a whole number: type digits only."


# (literal JSON for the field, message); {good} is the field's good value.
JSON_BAD = [
    ('"{good}"', _not_json_integer('the string "{good}"')),
    ('"0{good}"', _not_json_integer('the string "0{good}"')),
    ("{good}.0", _not_json_integer("the decimal number {good}.0")),
    ("{good}.5", _not_json_integer("the decimal number {good}.5")),
    ("1e3", _not_json_integer("the decimal number 1000.0")),
    ("1E0", _not_json_integer("the decimal number 1.0")),
    ("true", _not_json_integer("true")),
    ("false", _not_json_integer("false")),
    ("[{good}]", _not_json_integer("a list")),
    ('{{"n": {good}}}', _not_json_integer("an object")),
    ("null", "{null}"),
]

# endpoint, its fields, how a 400 shows a field's messages, what null says.
JSON_ENDPOINTS = {
    "bills": ("/api/bills", ("customer_id", "year", "month"), "This field may not be null."),
    "generate": ("/api/bills/generate", ("year", "month"), "This field may not be null."),
    "usage": (
        "/api/usage",
        ("customer_id", "year", "month", "api_usage"),
        "This field is required.",
    ),
}


@pytest.fixture
def good_bodies(customer):
    """A body each endpoint accepts: JSON integers only. The customer's March usage is over
    its limit, so a bill can be made."""
    Usage.objects.create(customer=customer, year=2025, month=3, api_usage=1_200_000)
    return {
        "bills": {"customer_id": customer.pk, "year": 2025, "month": 3},
        "generate": {"year": 2025, "month": 3},
        "usage": {"customer_id": customer.pk, "year": 2025, "month": 4, "api_usage": 7},
    }


def _with_literal(body: dict, field: str, literal: str) -> str:
    return json.dumps(body | {field: "__value__"}).replace('"__value__"', literal)


@pytest.mark.parametrize(("literal", "message"), JSON_BAD, ids=[bad for bad, _ in JSON_BAD])
@pytest.mark.parametrize(
    ("endpoint", "field"),
    [(name, field) for name, (_, fields, _) in JSON_ENDPOINTS.items() for field in fields],
)
def test_an_integer_field_sent_as_anything_but_a_json_integer_is_a_400_naming_it(
    finance, api_as, good_bodies, endpoint, field, literal, message
):
    url, _, null = JSON_ENDPOINTS[endpoint]
    good = good_bodies[endpoint][field]
    text = _with_literal(good_bodies[endpoint], field, literal.format(good=good))
    response = api_as(finance).generic("POST", url, text, content_type="application/json")
    assert response.status_code == 400, response.content
    expected = {field: [message.format(good=good, null=null)]}
    assert response.json() == (expected if endpoint != "usage" else {"items": {"0": expected}})
    assert not Bill.objects.exists()
    assert Usage.objects.count() == 1  # the fixture's month only


@pytest.mark.parametrize(
    ("endpoint", "status"), [("bills", 201), ("generate", 202), ("usage", 200)]
)
def test_json_integers_are_accepted(finance, api_as, good_bodies, endpoint, status):
    url, _, _ = JSON_ENDPOINTS[endpoint]
    response = api_as(finance).post(url, good_bodies[endpoint])
    assert response.status_code == status, response.content


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customer_id", 0, f"Enter an id from 1 to {MAX}."),
        ("customer_id", 2**63, f"Enter an id from 1 to {MAX}."),
        ("year", 1999, "Enter a year between 2000 and 2999."),
        ("month", 13, "Enter a month from 1 to 12."),
        ("month", -3, "Enter a month from 1 to 12."),
    ],
)
def test_a_json_integer_out_of_range_is_a_400_saying_the_range(
    finance, api_as, good_bodies, field, value, message
):
    response = api_as(finance).post("/api/bills", good_bodies["bills"] | {field: value})
    assert response.status_code == 400
    assert response.json() == {field: [message]}


# Query strings: (value, message). Each is sent url-encoded, so "+1" arrives as "+1".
QUERY_BAD = [
    ("1.0", _not_digits("1.0")),
    ("2025.0", _not_digits("2025.0")),
    ("1e3", _not_digits("1e3")),
    ("+1", _not_digits("+1")),
    ("true", _not_digits("true")),
    ("", "Enter a whole number: the value is empty."),
    (" 1", _not_digits(" 1")),
    ("1 ", _not_digits("1 ")),
    ("１", _not_digits("１")),
    ("1_000", _not_digits("1_000")),
    ("0x1", _not_digits("0x1")),
]

QUERY_PARAMS = [
    ("/api/bills", "customer_id"),
    ("/api/bills", "year"),
    ("/api/bills", "month"),
    ("/api/bills", "page"),
    ("/api/bills", "page_size"),
    ("/api/bills.csv", "customer_id"),
    ("/api/bills.csv", "year"),
    ("/api/bills.csv", "month"),
    ("/api/usage", "customer_id"),
    ("/api/usage", "year"),
    ("/api/usage", "month"),
    ("/api/usage", "page"),
    ("/api/usage", "page_size"),
    ("/api/usage.csv", "customer_id"),
    ("/api/usage.csv", "year"),
    ("/api/usage.csv", "month"),
    ("/api/customers", "csm_id"),
    ("/api/customers", "page"),
    ("/api/customers", "page_size"),
]


@pytest.mark.parametrize(("value", "message"), QUERY_BAD, ids=[bad for bad, _ in QUERY_BAD])
@pytest.mark.parametrize(("url", "param"), QUERY_PARAMS)
def test_a_query_count_that_is_not_ascii_digits_is_a_400_naming_it(
    finance, api_as, url, param, value, message
):
    response = api_as(finance).get(f"{url}?{urlencode({param: value})}")
    assert response.status_code == 400, response.content
    assert response.json() == {param: [message]}


@pytest.mark.parametrize(
    ("url", "param", "value", "message"),
    [
        ("/api/bills", "customer_id", "-1", f"Enter an id from 1 to {MAX}."),
        ("/api/bills", "customer_id", "9" * 60, f"Enter an id from 1 to {MAX}."),
        ("/api/usage", "year", "-2025", "Enter a year between 2000 and 2999."),
        ("/api/usage", "month", "13", "Enter a month from 1 to 12."),
        ("/api/customers", "csm_id", "0", f"Enter an id from 1 to {MAX}."),
        ("/api/customers", "page", "0", "Enter a whole number of 1 or more."),
        ("/api/customers", "page", "-1", "Enter a whole number of 1 or more."),
        ("/api/customers", "page", "9" * 60, "Enter a whole number of at most 40 digits."),
        ("/api/customers", "page_size", "501", "Enter a whole number from 1 to 500."),
    ],
)
def test_a_query_count_out_of_range_is_a_400_saying_the_range(
    finance, api_as, url, param, value, message
):
    response = api_as(finance).get(f"{url}?{urlencode({param: value})}")
    assert response.status_code == 400
    assert response.json() == {param: [message]}


@pytest.mark.parametrize(
    ("url", "query", "count"),
    [
        ("/api/bills", "customer_id={customer}", 1),
        ("/api/bills", "year=2025&month=3", 1),
        ("/api/bills", "month=03", 1),
        ("/api/bills", "page=1&page_size=500", 1),
        ("/api/bills.csv", "customer_id={customer}&year=2025&month=3", 1),
        ("/api/usage", "customer_id={customer}&year=2025&month=03", 1),
        ("/api/usage", "page=1&page_size=1", 1),
        ("/api/usage.csv", "customer_id={customer}&year=2025&month=3", 1),
        ("/api/customers", "csm_id={csm}", 1),
        ("/api/customers", "csm_id=0{csm}&page=01&page_size=1", 1),
        ("/api/customers", "page_size=500", 1),
    ],
)
def test_query_counts_in_ascii_digits_are_read(
    finance, csm, api_as, bill_in, customer, url, query, count
):
    bill_in(Status.DRAFT, customer=customer)  # March 2025, with its usage
    response = api_as(finance).get(f"{url}?{query.format(customer=customer.pk, csm=csm.pk)}")
    assert response.status_code == 200, response.content
    if url.endswith(".csv"):
        rows = list(csv.reader(io.StringIO(response.getvalue().decode())))
        assert len(rows) == 1 + count
    else:
        assert response.json()["count"] == count


@pytest.mark.parametrize("period", ["２０２５-０３", "2025-٠٣", "2025-3"])
def test_a_period_is_ascii_digits_too(finance, api_as, period):
    response = api_as(finance).get(f"/api/bills?{urlencode({'period': period})}")
    assert response.status_code == 400
    assert response.json() == {
        "period": [f"“{period}” is not a month. Enter a month as YYYY-MM, e.g. 2026-10."]
    }
