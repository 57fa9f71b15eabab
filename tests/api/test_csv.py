"""CSV exports: the same filters as the JSON lists, streamed, login required."""

from __future__ import annotations

import csv
import io

import pytest
from django.http import StreamingHttpResponse

from bills.models import Status
from tests.api.conftest import MONTH, YEAR
from tests.factories import CustomerFactory, make_bill
from usage.models import Usage


def _rows(response) -> list[dict[str, str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_bills_csv_has_the_bill_fields(finance, as_user, bill_in, customer):
    bill = bill_in(api_usage=1_000_401)
    response = as_user(finance).get("/api/bills.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="bills.csv"'
    (row,) = _rows(response)
    assert {k: row[k] for k in list(row)[:12]} == {
        "id": str(bill.pk),
        "customer_id": str(customer.pk),
        "customer_name": "Acme Corp",
        "year": str(YEAR),
        "month": str(MONTH),
        "api_usage": "1000401",
        "monthly_api_limit": "1000000",
        "overage_units": "401",
        "overage_unit_cost": "0.002500",
        "overage_amount": "1.00",
        "status": "draft",
        "approvals_needed": "1",
    }
    assert row["created_at"].startswith(f"{bill.created_at:%Y-%m-%dT%H:%M}")


def test_bills_csv_takes_the_list_filters(finance, sales, as_user, customer, bill_in):
    other = CustomerFactory(name="Globex")
    bill_in(Status.APPROVED)
    make_bill(customer=other, finance=finance, year=YEAR, month=MONTH)
    make_bill(customer=other, finance=finance, year=2024, month=MONTH)
    client = as_user(finance)
    assert [r["status"] for r in _rows(client.get("/api/bills.csv?status=approved"))] == [
        "approved"
    ]
    assert len(_rows(client.get(f"/api/bills.csv?customer_id={other.pk}"))) == 2
    assert len(_rows(client.get("/api/bills.csv?year=2024"))) == 1
    assert len(_rows(client.get(f"/api/bills.csv?month={MONTH}"))) == 3


def test_usage_csv_takes_the_list_filters(finance, as_user, customer):
    for month in (1, 2, 3):
        Usage.objects.create(customer=customer, year=2025, month=month, api_usage=month * 10)
    rows = _rows(as_user(finance).get("/api/usage.csv?from=2025-02&to=2025-03"))
    assert [(r["year"], r["month"], r["api_usage"]) for r in rows] == [
        ("2025", "3", "30"),
        ("2025", "2", "20"),
    ]
    assert list(rows[0]) == [
        "customer_id",
        "customer_name",
        "year",
        "month",
        "api_usage",
        "updated_at",
    ]


def test_csv_answers_csv_even_when_the_client_asks_for_it(finance, as_user, customer):
    response = as_user(finance).get("/api/usage.csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert _rows(response) == []


@pytest.mark.parametrize("url", ["/api/bills.csv?status=paid", "/api/usage.csv?from=2025"])
def test_csv_with_a_bad_filter_is_a_json_400(finance, as_user, url):
    response = as_user(finance).get(url)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("url", ["/api/bills.csv", "/api/usage.csv"])
def test_csv_needs_a_login(db, anon, url):
    assert anon.get(url).status_code == 401


def test_csv_defuses_spreadsheet_formulas_in_names(finance, as_user):
    evil = CustomerFactory(name='=HYPERLINK("http://evil.example","x")')
    Usage.objects.create(customer=evil, year=2025, month=1, api_usage=1)
    (row,) = _rows(as_user(finance).get("/api/usage.csv"))
    assert row["customer_name"] == "'" + evil.name
