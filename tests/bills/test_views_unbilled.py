"""/bills/unbilled and GET /api/bills/unbilled: the customer-months over the limit with no live
bill, for every signed-in user; Finance also gets the button that bills each one."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bills.models import Status
from tests.factories import MONTH, ROLES, YEAR, CustomerFactory, UsageFactory, htmx
from tests.tasks import tasks_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def unbilled(bill_in):
    """Three unbilled months, one of each reason, and a billed one: {name: object}."""
    acme = CustomerFactory(name="Acme Corp")
    UsageFactory(customer=acme, year=YEAR, month=MONTH, api_usage=1_500_000)
    UsageFactory(customer=acme, year=YEAR, month=MONTH - 1, api_usage=1_100_000)
    ended = CustomerFactory(name="Ended Co", end_date=date(2024, 12, 31))
    UsageFactory(customer=ended, year=YEAR, month=MONTH, api_usage=2_000_000)
    void = bill_in(Status.VOID, api_usage=1_200_000)
    bill_in(Status.DRAFT)  # billed: not listed
    return {"acme": acme, "ended": ended, "void": void}


def rows(html: str) -> list[tuple[str, str, str]]:
    """(customer, period, reason) of each row."""
    found = re.findall(
        r'<td data-label="Customer" class="cell-customer"><a [^>]*>([^<]+)</a></td>\s*'
        r'<td data-label="Period" class="nowrap"><time datetime="([\d-]+)">.*?'
        r'<td data-label="Why unbilled"><span class="tag[^"]*">([^<]+)</span>',
        html,
        re.S,
    )
    return found


def test_it_lists_each_unbilled_month_with_why(page_as, sales, unbilled):
    html = page_as(sales).get("/bills/unbilled").content.decode()
    void_name = unbilled["void"].customer.name
    assert sorted(rows(html)) == sorted(
        [
            ("Acme Corp", "2025-03", "not generated yet"),
            ("Ended Co", "2025-03", "not under contract"),
            (void_name, "2025-03", "voided and not re-billed"),
            ("Acme Corp", "2025-02", "not generated yet"),
        ]
    )
    assert "USD\u00a01,250.00" in html  # 500,000 calls over at 0.0025
    assert "Contract 1 Jan 2020 – 31 Dec 2024" in html


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_it_and_only_finance_gets_the_buttons(page_as, users, unbilled, role):
    response = page_as(users[role]).get("/bills/unbilled")
    assert response.status_code == 200
    html = response.content.decode()
    buttons = re.findall(r'<button type="submit" class="btn btn-sm"[^>]*>([^<]+)</button>', html)
    if role == "finance":
        assert buttons == ["Generate Mar 2025", "Re-bill", "Generate Feb 2025"]
        assert f'action="/bills/{unbilled["void"].pk}/rebill"' in html
    else:
        assert buttons == []


def test_anonymous_is_sent_to_welcome(client):
    response = client.get("/bills/unbilled")
    assert response.status_code == 302
    assert response["Location"] == "/welcome?next=%2Fbills%2Funbilled"


def test_it_is_read_only(page_as, finance):
    assert page_as(finance).post("/bills/unbilled").status_code == 405


def test_generate_from_the_page_bills_the_month(page_as, finance, unbilled):
    client = page_as(finance)
    response = client.post("/bills/generate", {"year": YEAR, "month": MONTH}, follow=True)
    tasks_run()  # the worker runs the month end
    job_page = client.get(response.redirect_chain[-1][0])
    # Acme Corp, and the void month: generation bills a month whose bills are all void too.
    assert "March 2025</strong>: created 2 bills" in job_page.content.decode()
    html = client.get("/bills/unbilled").content.decode()
    assert [r for r in rows(html) if r[1] == "2025-03"] == [
        ("Ended Co", "2025-03", "not under contract")
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("period=2025-02", [("Acme Corp", "2025-02", "not generated yet")]),
        ("reason=not_under_contract", [("Ended Co", "2025-03", "not under contract")]),
        ("period=2025-03&reason=not_generated", [("Acme Corp", "2025-03", "not generated yet")]),
        ("month=2", [("Acme Corp", "2025-02", "not generated yet")]),
        ("period=2024-01", []),
    ],
)
def test_the_table_filters_as_an_htmx_fragment(page_as, sales, unbilled, query, expected):
    response = page_as(sales).get(f"/bills/unbilled?{query}", **htmx("unbilled-index"))
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="unbilled-index"')
    assert rows(html) == expected
    if not expected:
        assert "No unbilled overage matches these filters." in html


def test_a_filter_without_a_field_is_shown_as_a_chip(page_as, sales, unbilled):
    acme = unbilled["acme"].pk
    html = page_as(sales).get(f"/bills/unbilled?customer_id={acme}&month=2").content.decode()
    assert rows(html) == [("Acme Corp", "2025-02", "not generated yet")]
    assert "Customer: Acme Corp" in html and "Month: February" in html
    assert f'href="/bills/unbilled?customer_id={acme}" class="chip-remove"' in html


def test_a_bad_period_is_dropped_and_said_on_its_field(page_as, sales, unbilled):
    html = page_as(sales).get("/bills/unbilled?period=2025-13").content.decode()
    assert "Enter a month as YYYY-MM, e.g. 2026-10." in html
    assert len(rows(html)) == 4


def test_the_dashboard_link_loads_the_count(page_as, sales, unbilled):
    client = page_as(sales)
    dashboard = client.get("/dashboard?awaiting=").content.decode()
    assert (
        '<a class="unbilled-link" href="/bills/unbilled">Unbilled overage <span id="unbilled-count"'
        in dashboard
    )
    count = client.get("/bills/unbilled", **htmx("unbilled-count")).content.decode()
    assert '<span id="unbilled-count"' in count and ">(4)</span>" in count


def test_the_page_runs_a_fixed_number_of_queries(page_as, sales, django_assert_max_num_queries):
    for n in range(60):
        UsageFactory(customer=CustomerFactory(name=f"Bulk {n:02d}"), year=YEAR, month=MONTH)
    client = page_as(sales)
    # session, user, the navigation's "waiting for me" count, the count, the page of rows
    with django_assert_max_num_queries(5):
        html = client.get("/bills/unbilled").content.decode()
    assert len(rows(html)) == 50
    with django_assert_max_num_queries(5):
        client.get("/bills/unbilled?page=2", **htmx("unbilled-index"))


# --- the API ---------------------------------------------------------------------------------


def test_the_api_lists_them_with_money_as_strings(api_as, sales, unbilled):
    response = api_as(sales).get("/api/bills/unbilled?period=2025-03&reason=voided")
    assert response.status_code == 200
    void = unbilled["void"]
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "customer_id": void.customer_id,
                "customer_name": void.customer.name,
                "year": 2025,
                "month": 3,
                "api_usage": 1_200_000,
                "monthly_api_limit": 1_000_000,
                "overage_units": 200_000,
                "overage_unit_cost": "0.002500",
                "estimated_amount": "500.00",
                "currency": "USD",
                "reason": "voided",
                "reason_label": "voided and not re-billed",
                "void_bill_id": void.pk,
            }
        ],
    }


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_the_api_answers_every_signed_in_role(client_for, unbilled, role):
    response = client_for(role).get("/api/bills/unbilled")
    assert response.status_code == (401 if role == "anonymous" else 200)
    if role != "anonymous":
        assert response.json()["count"] == 4


@pytest.mark.parametrize(
    ("query", "field"),
    [("period=2025-13", "period"), ("reason=late", "reason"), ("year=1999", "year")],
)
def test_the_api_refuses_a_bad_filter_naming_it(api_as, sales, query, field):
    response = api_as(sales).get(f"/api/bills/unbilled?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_the_api_pages(api_as, sales, unbilled):
    body = api_as(sales).get("/api/bills/unbilled?page_size=3").json()
    assert body["count"] == 4 and len(body["results"]) == 3
    assert body["next"].endswith("/api/bills/unbilled?page=2&page_size=3")


def test_the_api_is_in_the_openapi_document(api_as, sales):
    schema = api_as(sales).get("/api/schema/?format=json")
    assert schema.status_code == 200
    operation = schema.json()["paths"]["/api/bills/unbilled"]["get"]
    names = [p["name"] for p in operation["parameters"]]
    assert names == ["customer_id", "month", "page", "page_size", "period", "reason", "year"]
