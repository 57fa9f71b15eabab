"""The error contract that every endpoint shares, pagination, and a fixed number of queries
whatever the page size."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing_site.core import periods
from bills.services import bill_generate
from customers.models import Customer
from tests.factories import CustomerFactory
from usage.models import Usage

# --- malformed requests --------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"year": 2025,}', b"[" * 100_000, b'{"year": NaN}', b"\xff\xfe", b"'single'"],
    ids=["truncated", "trailing-comma", "nested-too-deep", "nan", "not-utf8", "single-quotes"],
)
def test_malformed_json_is_a_400(finance, api_as, raw):
    response = api_as(finance).post("/api/bills/generate", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_form_encoded_body_is_a_415(finance, api_as):
    response = api_as(finance).post(
        "/api/bills/generate", "year=2025&month=3", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert "detail" in response.json()


def test_body_over_the_upload_limit_is_a_413(finance, api_as, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_as(finance).post("/api/usage", [{"customer_id": 1}] * 100)
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


def test_lone_surrogate_in_an_unknown_field_name_is_echoed_safely(finance, api_as):
    response = api_as(finance).post(
        "/api/bills/generate", b'{"\\ud800": 1}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"\ud800": ["Unknown field."]}


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/api/session"),
        ("get", "/api/bills/generate"),
        ("delete", "/api/bills"),
        ("get", "/api/bills/1/approve"),
        ("post", "/api/bills/1/send"),
        ("post", "/api/usage.csv"),
        ("patch", "/api/users/1"),
        ("get", "/api/users"),
    ],
)
def test_wrong_method_is_a_405(finance, api_as, method, url):
    response = getattr(api_as(finance), method)(url, {})
    assert response.status_code == 405
    assert "not allowed" in response.json()["detail"]


def test_unknown_api_url_is_a_404(finance, api_as):
    assert api_as(finance).get("/api/invoices").status_code == 404


@pytest.mark.parametrize(
    "url", ["/api/invoices", "/api/bills/abc", "/api/bills/null%2Cnull", "/api/users/1.5/x"]
)
def test_a_url_the_api_does_not_have_answers_json_not_the_html_page(finance, api_as, url):
    response = api_as(finance).get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_page_is_still_the_html_404(finance, client):
    client.force_login(finance)
    response = client.get("/bills/abc")
    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]


def test_a_crash_under_the_api_is_a_json_500_that_tells_nothing(finance, monkeypatch):
    from rest_framework.test import APIClient

    def explode(*args, **kwargs):
        raise RuntimeError("secret detail of the crash")

    monkeypatch.setattr("bills.api.bill_list", explode)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {finance.session_token}")
    response = client.get("/api/bills")
    assert response.status_code == 500
    assert response.json() == {"detail": "Server error. It has been logged."}
    assert b"secret detail" not in response.content


# --- pagination ----------------------------------------------------------------------------


@pytest.fixture
def five_customers(db):
    return [CustomerFactory(name=f"Customer {n}") for n in range(5)]


def test_pages_have_count_next_previous_results(finance, api_as, five_customers):
    client = api_as(finance)
    first = client.get("/api/customers?page_size=2").json()
    assert first["count"] == 5
    assert first["previous"] is None
    assert first["next"].endswith("/api/customers?page=2&page_size=2")
    assert [c["name"] for c in first["results"]] == ["Customer 0", "Customer 1"]
    last = client.get("/api/customers?page_size=2&page=3").json()
    assert last["next"] is None
    assert last["previous"].endswith("/api/customers?page=2&page_size=2")
    assert [c["name"] for c in last["results"]] == ["Customer 4"]


def test_default_page_size_is_50(finance, api_as):
    CustomerFactory.create_batch(51)
    body = api_as(finance).get("/api/customers").json()
    assert (body["count"], len(body["results"])) == (51, 50)


def test_page_size_500_is_allowed(finance, api_as, five_customers):
    assert api_as(finance).get("/api/customers?page_size=500").status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page_size=501", "page_size"),
        ("page_size=0", "page_size"),
        ("page_size=ten", "page_size"),
        ("page_size=" + "9" * 5000, "page_size"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=last", "page"),
    ],
)
def test_bad_page_or_page_size_is_a_400_naming_it(finance, api_as, five_customers, query, field):
    response = api_as(finance).get(f"/api/customers?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_page_past_the_last_is_a_404(finance, api_as, five_customers):
    response = api_as(finance).get("/api/customers?page=2")
    assert response.status_code == 404
    assert response.json() == {"detail": "Page 2 does not exist."}


def test_empty_list_is_one_empty_page(finance, api_as):
    body = api_as(finance).get("/api/bills").json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


# --- a fixed number of queries, whatever the page size ---------------------------------------


def _rows(n: int, finance) -> None:
    """n customers with usage and a bill for the same ended month, made in bulk."""
    year, month = periods.last_ended_month()
    start = Customer.objects.count()
    customers = CustomerFactory.create_batch(n - start) if n > start else []
    Usage.objects.bulk_create(
        Usage(customer=c, year=year, month=month, api_usage=2_000_000) for c in customers
    )
    bill_generate(year=year, month=month, user=finance)


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        "/api/bills?page_size=500",
        "/api/customers?page_size=500",
        "/api/usage?page_size=500",
        "/api/bills.csv",
        "/api/usage.csv",
    ],
)
def test_list_runs_a_fixed_number_of_queries_for_1_or_200_rows(
    finance, api_as, url, django_assert_max_num_queries
):
    client = api_as(finance)
    _rows(1, finance)
    with_one = _queries(client, url)
    _rows(200, finance)
    with django_assert_max_num_queries(with_one):
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            text = b"".join(response.streaming_content).decode()
            assert len(list(csv.reader(io.StringIO(text)))) == 201  # addresses span lines
        else:
            assert len(response.json()["results"]) == 200


def test_bill_detail_runs_a_fixed_number_of_queries(
    finance, sales, csm, customer, api_as, django_assert_max_num_queries, bill_in
):
    client = api_as(finance)
    bill = bill_in(customer=customer)
    few = _queries(client, f"/api/bills/{bill.pk}")
    for _ in range(10):
        client_sales = api_as(sales)
        client_sales.patch(f"/api/bills/{bill.pk}/approve", {})
        client_sales.patch(f"/api/bills/{bill.pk}/revert", {"comment": "again"})
    with django_assert_max_num_queries(few):
        actions = client.get(f"/api/bills/{bill.pk}").json()["actions"]
    assert len(actions) == 21


def test_customer_detail_runs_a_fixed_number_of_queries(
    finance, customer, api_as, django_assert_max_num_queries
):
    client = api_as(finance)
    few = _queries(client, f"/api/customers/{customer.pk}")
    Usage.objects.bulk_create(
        Usage(customer=customer, year=2025, month=m, api_usage=2_000_000) for m in range(1, 13)
    )
    bill_generate(year=2025, month=1, user=finance)
    bill_generate(year=2025, month=2, user=finance)
    with django_assert_max_num_queries(few):
        body = client.get(f"/api/customers/{customer.pk}").json()
    assert len(body["bills"]) == 2
