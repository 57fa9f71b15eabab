"""Usage over HTTP: the list with its filters, and the all-or-nothing batch write."""

from __future__ import annotations

import csv
import io
import json

import pytest

from billing_site.core import periods
from tests.factories import CustomerFactory
from usage.models import Usage, UsageRevision
from usage.services import MAX_ITEMS


def _item(customer, year=2025, month=3, api_usage=1_500_000, **extra):
    item = {"customer_id": customer.pk, "year": year, "month": month, "api_usage": api_usage}
    return {**item, **extra}


# --- read ----------------------------------------------------------------------------------


def test_usage_list_shape(finance, api_as, customer):
    row = Usage.objects.create(customer=customer, year=2025, month=3, api_usage=2**40)
    body = api_as(finance).get("/api/usage").json()
    assert body["count"] == 1
    (result,) = body["results"]
    assert set(result) == {
        "id",
        "customer_id",
        "customer_name",
        "year",
        "month",
        "api_usage",
        "created_at",
        "updated_at",
    }
    assert (result["id"], result["customer_id"], result["customer_name"]) == (
        row.pk,
        customer.pk,
        "Acme Corp",
    )
    assert (result["year"], result["month"], result["api_usage"]) == (2025, 3, 2**40)


@pytest.fixture
def usage_rows(customer):
    other = CustomerFactory(name="Globex")
    rows = {}
    for who, c in (("acme", customer), ("globex", other)):
        for y, m in [(2024, 11), (2024, 12), (2025, 1), (2025, 2)]:
            rows[f"{who}-{y}-{m:02d}"] = Usage.objects.create(
                customer=c, year=y, month=m, api_usage=100
            )
    return rows


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "from=2024-12&to=2025-01",
            ["acme-2025-01", "globex-2025-01", "acme-2024-12", "globex-2024-12"],
        ),
        ("from=2025-02", ["acme-2025-02", "globex-2025-02"]),
        ("to=2024-11", ["acme-2024-11", "globex-2024-11"]),
        ("year=2024&month=12", ["acme-2024-12", "globex-2024-12"]),
        ("month=1", ["acme-2025-01", "globex-2025-01"]),
        ("year=2025&from=2025-02", ["acme-2025-02", "globex-2025-02"]),
        ("from=2025-03", []),
        ("from=2025-02&to=2024-11", []),
    ],
)
def test_usage_filters(finance, api_as, usage_rows, query, expected):
    results = api_as(finance).get(f"/api/usage?{query}").json()["results"]
    assert [r["id"] for r in results] == [usage_rows[k].pk for k in expected]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "from=2024-12&to=2025-01",
            [
                ("Acme Corp", "2025", "1"),
                ("Globex", "2025", "1"),
                ("Acme Corp", "2024", "12"),
                ("Globex", "2024", "12"),
            ],
        ),
        ("year=2024&month=12", [("Acme Corp", "2024", "12"), ("Globex", "2024", "12")]),
        ("to=2024-11", [("Acme Corp", "2024", "11"), ("Globex", "2024", "11")]),
    ],
)
def test_the_csv_export_takes_the_same_filters(finance, api_as, usage_rows, query, expected):
    response = api_as(finance).get(f"/api/usage.csv?{query}")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert [(name, year, month) for _, name, year, month, *_ in rows] == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [("from=2025-13", "from"), ("to=2025-1", "to"), ("customer_id=0", "customer_id")],
)
def test_a_bad_csv_filter_is_a_400_naming_it(finance, api_as, query, field):
    response = api_as(finance).get(f"/api/usage.csv?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.parametrize("path", ["/api/usage", "/api/usage.csv"])
def test_the_openapi_document_lists_the_filters(db, path):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    parameters = {
        p["name"]: p["schema"]
        for p in schema["paths"][path]["get"]["parameters"]
        if p["in"] == "query"
    }
    period = {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$", "example": "2026-10"}
    assert {k: v for k, v in parameters.items() if k not in ("page", "page_size")} == {
        "customer_id": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1},
        "year": {"type": "integer", "minimum": 2000, "maximum": 2999},
        "month": {"type": "integer", "minimum": 1, "maximum": 12},
        "from": period,
        "to": period,
    }


def test_usage_filter_by_customer_newest_first(finance, api_as, usage_rows, customer):
    results = api_as(finance).get(f"/api/usage?customer_id={customer.pk}").json()["results"]
    assert [(r["year"], r["month"]) for r in results] == [
        (2025, 2),
        (2025, 1),
        (2024, 12),
        (2024, 11),
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2025-13", "from"),
        ("from=2025-1", "from"),
        ("to=March", "to"),
        ("to=2025-03-01", "to"),
        ("year=abc", "year"),
        ("month=13", "month"),
        ("customer_id=0", "customer_id"),
    ],
)
def test_bad_usage_filter_is_a_400_naming_it(finance, api_as, query, field):
    response = api_as(finance).get(f"/api/usage?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


# --- write ---------------------------------------------------------------------------------


def test_finance_records_one_month(finance, api_as, customer):
    response = api_as(finance).post("/api/usage", _item(customer))
    assert response.status_code == 200
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0}
    assert Usage.objects.get().api_usage == 1_500_000


def test_finance_records_a_batch_and_replaces_existing_totals(finance, api_as, customer):
    Usage.objects.create(customer=customer, year=2025, month=1, api_usage=1)
    batch = [_item(customer, month=m, api_usage=10 * m) for m in (1, 2, 3)]
    response = api_as(finance).post("/api/usage", batch)
    assert response.json() == {"created": 2, "updated": 1, "unchanged": 0}
    assert dict(Usage.objects.values_list("month", "api_usage")) == {1: 10, 2: 20, 3: 30}


def test_the_same_batch_again_changes_nothing_and_says_so(finance, api_as, customer):
    batch = [_item(customer, month=m, api_usage=10 * m) for m in (1, 2, 3)]
    api_as(finance).post("/api/usage", batch)
    response = api_as(finance).post("/api/usage", batch)
    assert response.json() == {"created": 0, "updated": 0, "unchanged": 3}
    assert UsageRevision.objects.count() == 3


def test_usage_accepts_64_bit_totals(finance, api_as, customer):
    response = api_as(finance).post("/api/usage", _item(customer, api_usage=2**63 - 1))
    assert response.status_code == 200
    assert Usage.objects.get().api_usage == 2**63 - 1


def test_bad_items_are_named_by_index_and_field_and_nothing_is_written(finance, api_as, customer):
    future_year, future_month = periods.next_month(periods.today().year, periods.today().month)
    batch = [
        _item(customer, month=1),
        _item(customer, month=2, api_usage=-5),
        _item(customer, month=3),
        {"customer_id": 999999, "year": 2025, "month": 4, "api_usage": 1},
        _item(customer, month=13, api_usage="lots"),
        _item(customer, year=future_year, month=future_month),
        _item(customer, month=6, colour="red"),
        _item(customer, month=3),
        "not an object",
    ]
    response = api_as(finance).post("/api/usage", batch)
    assert response.status_code == 400
    errors = response.json()["items"]
    assert set(response.json()) == {"items"}
    assert set(errors) == {"1", "3", "4", "5", "6", "7", "8"}
    assert list(errors["1"]) == ["api_usage"]
    assert list(errors["3"]) == ["customer_id"]
    assert set(errors["4"]) == {"month", "api_usage"}
    assert list(errors["5"]) == ["month"]
    assert list(errors["6"]) == ["colour"]
    assert list(errors["7"]) == ["month"]  # the same customer-month twice
    assert list(errors["8"]) == ["non_field_errors"]
    # Each message names what was sent.
    assert errors["1"]["api_usage"] == [
        "-5 is out of range: usage must be between 0 and 9223372036854775807."
    ]
    assert errors["3"]["customer_id"] == ["No customer has id 999999."]
    assert errors["4"] == {
        "month": ["13 is out of range: enter a month from 1 to 12."],
        "api_usage": ['Enter a whole number as a JSON integer, not the string "lots".'],
    }
    assert errors["7"]["month"] == [
        f"Item 2 already sets customer {customer.pk}, 2025-03; send it once."
    ]
    assert errors["8"] == {
        "non_field_errors": ['Each item must be an object, not the string "not an object".']
    }
    assert not Usage.objects.exists()


def test_a_bad_single_object_is_item_0(finance, api_as, customer):
    response = api_as(finance).post("/api/usage", _item(customer, api_usage=1.5))
    assert response.status_code == 400
    assert response.json() == {
        "items": {
            "0": {
                "api_usage": ["Enter a whole number as a JSON integer, not the decimal number 1.5."]
            }
        }
    }


@pytest.mark.parametrize(
    "body", [[], "twelve", 12, None], ids=["empty", "string", "number", "null"]
)
def test_batch_that_is_not_items_is_a_400(finance, api_as, body):
    response = api_as(finance).post("/api/usage", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}


def test_batch_of_more_than_10000_items_is_refused_whole(finance, api_as, customer):
    batch = [_item(customer)] * (MAX_ITEMS + 1)
    response = api_as(finance).post("/api/usage", batch)
    assert response.status_code == 400
    assert "10,000" in response.json()["detail"]
    assert not Usage.objects.exists()


def test_batch_of_10000_items_is_recorded(finance, api_as):
    customers = CustomerFactory.create_batch(40)
    months = [(y, m) for y in range(2001, 2026) for m in range(1, 13)][:250]
    batch = [
        _item(c, year=y, month=m, api_usage=n) for c in customers for n, (y, m) in enumerate(months)
    ]
    assert len(batch) == MAX_ITEMS
    response = api_as(finance).post("/api/usage", batch)
    assert response.status_code == 200, response.content[:500]
    assert response.json() == {"created": MAX_ITEMS, "updated": 0, "unchanged": 0}
    assert Usage.objects.count() == MAX_ITEMS == UsageRevision.objects.count()
