"""Customers over HTTP: the list with its filters, and one customer with usage and bills."""

from __future__ import annotations

from datetime import date

import pytest

from billing_site.core import periods
from tests.factories import CustomerFactory, make_bill
from usage.models import Usage


def test_customer_list_shape(finance, api_as, customer, csm):
    today = periods.today()
    Usage.objects.create(customer=customer, year=today.year, month=today.month, api_usage=42)
    body = api_as(finance).get("/api/customers").json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "id": customer.pk,
            "name": "Acme Corp",
            "billing_address": customer.billing_address,
            "billing_email": customer.billing_email,
            "csm_id": csm.pk,
            "csm_name": "casey",
            "monthly_api_limit": 1_000_000,
            "overage_unit_cost": "0.002500",
            "require_csm_approval": False,
            "start_date": "2020-01-01",
            "end_date": None,
            "current_usage": 42,
        }
    ]


@pytest.fixture
def three_customers(csm, other_csm):
    return {
        "acme": CustomerFactory(name="Acme Corp", csm=csm, require_csm_approval=True),
        "acme-eu": CustomerFactory(name="Acme Europe", csm=other_csm),
        "globex": CustomerFactory(name="Globex", csm=None, require_csm_approval=True),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("search=aCmE", ["acme", "acme-eu"]),
        ("search=EUROPE", ["acme-eu"]),
        ("search=nobody", []),
        ("require_csm_approval=true", ["acme", "globex"]),
        ("require_csm_approval=false", ["acme-eu"]),
        ("search=acme&require_csm_approval=true", ["acme"]),
        ("", ["acme", "acme-eu", "globex"]),
    ],
)
def test_customer_filters(finance, api_as, three_customers, query, expected):
    results = api_as(finance).get(f"/api/customers?{query}").json()["results"]
    assert [c["id"] for c in results] == [three_customers[k].pk for k in expected]


def test_customer_filter_by_csm(finance, other_csm, api_as, three_customers):
    results = api_as(finance).get(f"/api/customers?csm_id={other_csm.pk}").json()["results"]
    assert [c["name"] for c in results] == ["Acme Europe"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("require_csm_approval=maybe", "require_csm_approval"),
        ("csm_id=abc", "csm_id"),
        ("search=" + "x" * 201, "search"),
        ("search=%00", "search"),
    ],
)
def test_bad_customer_filter_is_a_400_naming_it(finance, api_as, query, field):
    response = api_as(finance).get(f"/api/customers?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_customer_detail_has_last_12_months_of_usage_and_its_bills(finance, api_as, customer):
    today = periods.today()
    y, m = today.year, today.month
    months = []
    for _ in range(14):  # 14 months back: the two oldest are left out
        months.append((y, m))
        y, m = periods.previous_month(y, m)
    Usage.objects.bulk_create(
        Usage(customer=customer, year=y, month=m, api_usage=1000 + i)
        for i, (y, m) in enumerate(months)
    )
    bill = make_bill(customer=customer, finance=finance, year=2025, month=3)

    body = api_as(finance).get(f"/api/customers/{customer.pk}").json()

    assert body["name"] == "Acme Corp"
    assert [(u["year"], u["month"]) for u in body["usage"]] == sorted(months[:12])
    assert body["usage"][-1] == {"year": today.year, "month": today.month, "api_usage": 1000}
    assert [b["id"] for b in body["bills"]] == [bill.pk]
    assert body["bills"][0]["overage_amount"] == "1250.00"
    assert body["bills"][0]["customer_name"] == "Acme Corp"


def test_customer_detail_of_a_contract_that_ended(finance, api_as):
    ended = CustomerFactory(start_date=date(2020, 1, 1), end_date=date(2021, 6, 30))
    body = api_as(finance).get(f"/api/customers/{ended.pk}").json()
    assert (body["end_date"], body["usage"], body["bills"]) == ("2021-06-30", [], [])


def test_unknown_customer_is_a_404(finance, api_as):
    response = api_as(finance).get("/api/customers/424242")
    assert response.status_code == 404
    assert response.json() == {"detail": "Customer #424242 does not exist."}


def test_customers_are_read_only(finance, api_as, customer):
    client = api_as(finance)
    assert client.post("/api/customers", {"name": "New"}).status_code == 405
    assert client.patch(f"/api/customers/{customer.pk}", {"name": "X"}).status_code == 405
    assert client.delete(f"/api/customers/{customer.pk}").status_code == 405
