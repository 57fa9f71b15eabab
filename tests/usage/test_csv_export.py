"""GET /api/usage.csv: the same filters as the JSON list, streamed, login required. (The bills'
export is tested in tests/bills/test_csv_export.py.)"""

from __future__ import annotations

import csv
import io

import pytest
from django.http import StreamingHttpResponse

from tests.factories import CustomerFactory
from usage.models import Usage


def _rows(response) -> list[dict[str, str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_usage_csv_takes_the_list_filters(finance, api_as, customer):
    for month in (1, 2, 3):
        Usage.objects.create(customer=customer, year=2025, month=month, api_usage=month * 10)
    rows = _rows(api_as(finance).get("/api/usage.csv?from=2025-02&to=2025-03"))
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


def test_csv_answers_csv_even_when_the_client_asks_for_it(finance, api_as, customer):
    response = api_as(finance).get("/api/usage.csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert _rows(response) == []


@pytest.mark.parametrize("url", ["/api/usage.csv?from=2025"])
def test_csv_with_a_bad_filter_is_a_json_400(finance, api_as, url):
    response = api_as(finance).get(url)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("url", ["/api/usage.csv"])
def test_csv_needs_a_login(db, anon, url):
    assert anon.get(url).status_code == 401


def test_csv_defuses_spreadsheet_formulas_in_names(finance, api_as):
    evil = CustomerFactory(name='=HYPERLINK("http://evil.example","x")')
    Usage.objects.create(customer=evil, year=2025, month=1, api_usage=1)
    (row,) = _rows(api_as(finance).get("/api/usage.csv"))
    assert row["customer_name"] == "'" + evil.name
