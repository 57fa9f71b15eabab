"""What the dashboard shows, it exports: the dashboard, GET /api/bills and GET /api/bills.csv
take the same filters and answer the same rows in the same order, and every API list refuses a
parameter it does not know (a 400 naming it) instead of quietly answering every row."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from billing_site.core import periods
from bills.filters import BillFilterSet
from bills.models import Invoice, Status
from tests.factories import CustomerFactory, htmx, make_bill
from usage.models import Usage

pytestmark = pytest.mark.django_db

# Every filter of BillFilterSet appears in at least one query string (a test holds that): add
# a line here when a filter is added. "{acme}" is Acme Corp's id.
QUERIES = [
    "",
    "status=draft",
    "status=sent",
    "status=void",
    "customer=acme",
    "customer_id={acme}",
    "period=2025-03",
    "year=2025",
    "month=2",
    "year=2025&month=3&status=draft",
    "usage_changed=true",
    "usage_changed=false",
    "awaiting=me",
    "outstanding=true",
    "overdue=true",
    "aging=current",
    "aging=31-60",
    "sort=amount",
    "sort=customer",
    "sort=oldest",
    "customer=acme&sort=amount&status=draft",
    "outstanding=true&sort=oldest",
]


@pytest.fixture
def book(finance, sales, bill_in):
    """Bills in every state over two periods and three customers: {name: bill}."""
    acme = CustomerFactory(name="Acme Corp")
    europe = CustomerFactory(name="Acme Europe")
    made = {
        "acme-03": make_bill(customer=acme, finance=finance, year=2025, month=3),
        "acme-02": make_bill(
            customer=acme, finance=finance, year=2025, month=2, api_usage=2_500_000
        ),
        "europe-02": make_bill(customer=europe, finance=finance, year=2025, month=2),
        "approved": bill_in(Status.APPROVED, api_usage=1_800_000),
        "rejected": bill_in(Status.REJECTED),
        "sent": bill_in(Status.SENT, api_usage=3_000_000),
        "overdue": bill_in(Status.SENT, api_usage=1_200_000),
        "void": bill_in(Status.VOID),
    }
    Invoice.objects.filter(bill=made["overdue"]).update(due_on=periods.today() - timedelta(days=45))
    Usage.objects.filter(customer=acme, year=2025, month=3).update(api_usage=1_700_000)
    made["acme"] = acme
    return made


def test_every_filter_is_exercised_by_the_queries():
    used = {pair.split("=")[0] for query in QUERIES for pair in query.split("&") if pair}
    assert used == set(BillFilterSet.base_filters)


def _csv_ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "id"
    return [int(row[0]) for row in rows[1:]]


@pytest.mark.parametrize("who", ["finance", "sales"])
def test_the_csv_the_api_and_the_dashboard_show_the_same_rows(book, users, api_as, page_as, who):
    api, page = api_as(users[who]), page_as(users[who])
    for query in QUERIES:
        query = query.format(acme=book["acme"].pk)
        answer = api.get(f"/api/bills?page_size=500&{query}")
        assert answer.status_code == 200, (query, answer.json())
        listed = [row["id"] for row in answer.json()["results"]]
        exported = _csv_ids(api.get(f"/api/bills.csv?{query}"))
        # The dashboard opens on a role's queue without a query string: ask for every bill.
        html = page.get(f"/dashboard?per_page=100&{query or 'awaiting='}", **htmx("bill-index"))
        shown = [int(pk) for pk in re.findall(r'id="bill-row-(\d+)"', html.content.decode())]
        assert exported == listed == shown, query


def test_the_rows_differ_between_queries(book, api_as, finance):
    # The equality above would hold for filters that filter nothing: a few literal answers.
    client = api_as(finance)

    def ids(query):
        return [row["id"] for row in client.get(f"/api/bills?{query}").json()["results"]]

    assert ids(f"customer_id={book['acme'].pk}") == [book["acme-03"].pk, book["acme-02"].pk]
    assert ids("month=2&sort=amount") == [book["acme-02"].pk, book["europe-02"].pk]
    assert ids("usage_changed=true") == [book["acme-03"].pk]
    assert ids("overdue=true") == [book["overdue"].pk]


def _export_href(html: str) -> str:
    match = re.search(r'<a class="btn btn-sm" id="export-csv" href="([^"]*)" download>', html)
    assert match, "no Export CSV link"
    return match.group(1).replace("&amp;", "&")


def test_the_export_link_carries_the_filters_and_sort_but_not_the_page(page_as, finance, book):
    html = page_as(finance).get(
        "/dashboard?customer=acme&period=&sort=amount&per_page=25&page=1", **htmx("bill-index")
    )
    assert _export_href(html.text) == "/api/bills.csv?customer=acme&sort=amount"
    full = page_as(finance).get("/dashboard?status=draft&customer_id=oops")
    # A value the page dropped (shown on its chip) is not exported either.
    assert _export_href(full.text) == "/api/bills.csv?status=draft"


def test_the_export_has_every_page_of_the_dashboard(page_as, finance, many_bills):
    many_bills(30)
    client = page_as(finance)
    first = client.get("/dashboard?sort=customer&per_page=25", **htmx("bill-index")).text
    second = client.get("/dashboard?sort=customer&per_page=25&page=2", **htmx("bill-index")).text
    shown = [int(pk) for html in (first, second) for pk in re.findall(r'id="bill-row-(\d+)"', html)]
    assert len(shown) == 30
    assert 'Export CSV <span class="muted">(30 bills)</span>' in first
    assert _csv_ids(client.get(_export_href(first))) == shown


# --- unknown parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "known"),
    [
        ("/api/customers", "search, csm_id, require_csm_approval; and page, page_size"),
        ("/api/usage", "customer_id, year, month, from, to; and page, page_size"),
        ("/api/usage.csv", "customer_id, year, month, from, to"),
        ("/api/bills/unbilled", "period, year, month, reason, customer_id; and page, page_size"),
    ],
)
def test_every_api_list_refuses_an_unknown_parameter_naming_it(api_as, finance, url, known):
    response = api_as(finance).get(f"{url}?stauts=draft")
    assert response.status_code == 400
    assert response.json() == {"stauts": [f"Unknown filter. Known: {known}."]}


@pytest.mark.parametrize("url", ["/api/bills", "/api/bills.csv"])
def test_the_bills_lists_refuse_an_unknown_parameter(api_as, finance, url):
    response = api_as(finance).get(f"{url}?stauts=draft&status=draft&format=json")
    assert response.status_code == 400
    body = response.json()
    assert sorted(body) == ["format", "stauts"]
    assert body["stauts"][0].startswith("Unknown filter. Known: status, customer_id, customer, ")


def test_only_the_paginated_list_takes_page_and_page_size(api_as, finance):
    client = api_as(finance)
    assert client.get("/api/bills?page=1&page_size=5").status_code == 200
    response = client.get("/api/bills.csv?page=2&page_size=5")
    assert response.status_code == 400
    assert sorted(response.json()) == ["page", "page_size"]
    assert "; and page" not in response.json()["page"][0]
