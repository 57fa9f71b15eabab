"""bills.filters: which bills the dashboard, GET /api/bills and the CSV show, and in which order;
a bad value is an error on its field (the page drops it, the API answers 400)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bills.filters import BillFilterSet, BillPageFilterSet
from bills.models import Bill, Status
from bills.selectors import bill_list, bill_status_totals
from bills.services import bill_approve
from tests.factories import CustomerFactory, htmx, make_bill

pytestmark = pytest.mark.django_db


@pytest.fixture
def bills(finance, sales):
    """Four bills: {label: bill}. Acme and Acme Europe match "acme"; Globex does not."""
    acme = CustomerFactory(name="Acme Corp")
    europe = CustomerFactory(name="Acme Europe")
    globex = CustomerFactory(name="Globex")
    made = {
        "acme-2025-03": make_bill(customer=acme, finance=finance, year=2025, month=3),
        "europe-2025-02": make_bill(
            customer=europe, finance=finance, year=2025, month=2, api_usage=3_000_000
        ),
        "globex-2025-03": make_bill(
            customer=globex, finance=finance, year=2025, month=3, api_usage=1_100_000
        ),
        "globex-2024-02": make_bill(customer=globex, finance=finance, year=2024, month=2),
    }
    made["europe-2025-02"] = bill_approve(bill=made["europe-2025-02"], user=sales)
    return made


def shown(bills: dict[str, Bill], data: dict, filterset_class=BillFilterSet) -> list[str]:
    filterset = filterset_class(data=data, queryset=bill_list())
    assert filterset.is_valid(), filterset.errors
    label = {bill.pk: name for name, bill in bills.items()}
    return [label[bill.pk] for bill in filterset.qs]


EVERY_BILL = ["acme-2025-03", "globex-2025-03", "europe-2025-02", "globex-2024-02"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, EVERY_BILL),
        ({"status": "approved"}, ["europe-2025-02"]),
        ({"status": ""}, EVERY_BILL),
        ({"customer": "acme"}, ["acme-2025-03", "europe-2025-02"]),
        ({"customer": "aCmE eUrOpE"}, ["europe-2025-02"]),
        ({"customer": "  globex  "}, ["globex-2025-03", "globex-2024-02"]),
        ({"customer": "corp europe"}, []),
        ({"period": "2025-03"}, ["acme-2025-03", "globex-2025-03"]),
        # The month of that year only: neither February 2025 nor another year's March.
        ({"period": "2025-02"}, ["europe-2025-02"]),
        ({"period": "2024-03"}, []),
        ({"year": "2025"}, ["acme-2025-03", "globex-2025-03", "europe-2025-02"]),
        ({"month": "2"}, ["europe-2025-02", "globex-2024-02"]),
        ({"year": "2025", "month": "2", "period": "2025-02"}, ["europe-2025-02"]),
        ({"customer": "globex", "period": "2024-02"}, ["globex-2024-02"]),
        ({"status": "draft", "customer": "acme"}, ["acme-2025-03"]),
    ],
)
def test_filters_combine(bills, data, expected):
    assert shown(bills, data) == expected


def test_customer_id_filters_by_the_customer(bills):
    globex = bills["globex-2025-03"].customer
    assert shown(bills, {"customer_id": str(globex.pk)}) == ["globex-2025-03", "globex-2024-02"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", EVERY_BILL),  # newest period, then customer name
        ("amount", ["europe-2025-02", "acme-2025-03", "globex-2024-02", "globex-2025-03"]),
        ("customer", ["acme-2025-03", "europe-2025-02", "globex-2025-03", "globex-2024-02"]),
        ("oldest", ["globex-2024-02", "acme-2025-03", "europe-2025-02", "globex-2025-03"]),
    ],
)
def test_sort_orders(bills, sort, expected):
    old = bills["globex-2024-02"]
    Bill.objects.filter(pk=old.pk).update(created_at=old.created_at - timedelta(days=400))
    assert shown(bills, {"sort": sort}) == expected


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"status": "settled"}, "status"),
        ({"customer": "x" * 201}, "customer"),
        ({"customer": "ac\x00me"}, "customer"),
        ({"customer_id": "0"}, "customer_id"),
        ({"customer_id": str(2**63)}, "customer_id"),
        ({"year": "1999"}, "year"),
        ({"month": "13"}, "month"),
        ({"period": "2025-13"}, "period"),
        ({"period": "2025-00"}, "period"),
        ({"period": "25-03"}, "period"),
        ({"period": "2025-03-01"}, "period"),
        ({"period": "3000-01"}, "period"),
        ({"sort": "-amount"}, "sort"),
    ],
)
def test_a_bad_value_is_an_error_on_its_field(db, data, field):
    filterset = BillFilterSet(data=data, queryset=bill_list())
    assert not filterset.is_valid()
    assert list(filterset.errors) == [field]


def test_a_bad_value_is_left_out_of_the_filtering(bills):
    filterset = BillFilterSet(data={"period": "soon", "customer": "globex"}, queryset=bill_list())
    assert [b.customer.name for b in filterset.qs] == ["Globex", "Globex"]


def test_the_status_tiles_ignore_the_status_but_follow_the_rest(bills):
    filterset = BillFilterSet(
        data={"status": "approved", "customer": "acme", "period": "2025-03"},
        queryset=bill_list(),
    )
    assert [b.pk for b in filterset.qs] == []
    rest = filterset.qs_without("status")
    assert [b.pk for b in rest] == [bills["acme-2025-03"].pk]
    counts = {s["value"]: s["count"] for s in bill_status_totals(bills=rest)}
    assert counts == {"draft": 1, "approved": 0, "rejected": 0, "sent": 0, "paid": 0, "void": 0}


def test_the_dashboard_takes_every_filter_of_the_api(bills):
    globex = bills["globex-2025-03"].customer
    data = {"year": "2024", "month": "2", "customer_id": str(globex.pk), "status": "draft"}
    assert list(BillPageFilterSet.base_filters) == list(BillFilterSet.base_filters)
    assert shown(bills, data, BillPageFilterSet) == ["globex-2024-02"]


# --- on the dashboard ----------------------------------------------------------------------


def field_of(html: str, name: str) -> str:
    match = re.search(rf'<div class="field field-{name}[^"]*">.*?</div>\n', html, re.S)
    assert match, f"no field {name}"
    return match.group(0)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("period=2025-13", "period", "Enter a month as YYYY-MM, e.g. 2026-10."),
        ("customer=ac%00me", "customer", "Null characters are not allowed."),
        ("status=settled", "status", "Select a valid choice."),
        ("sort=cheapest", "sort", "Select a valid choice."),
        ("per_page=7", "per_page", "Select a valid choice."),
    ],
)
def test_the_dashboard_drops_a_bad_filter_and_says_so_on_its_field(
    page_as, sales, bills, query, field, message
):
    response = page_as(sales).get(f"/dashboard?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert message in field_of(html, field)
    assert len(re.findall(r'id="bill-row-', html)) == 4


def test_the_dashboard_filters_and_sorts_with_the_filterset(page_as, sales, bills):
    html = (
        page_as(sales)
        .get("/dashboard?customer=GLOBEX&sort=oldest&period=2025-03", **htmx("bill-index"))
        .content.decode()
    )
    rows = [int(pk) for pk in re.findall(r'id="bill-row-(\d+)"', html)]
    assert rows == [bills["globex-2025-03"].pk]
    assert "Counts and totals for Mar 2025, customers matching “GLOBEX”." in html


def test_the_dashboard_tiles_count_every_status_of_the_other_filters(page_as, sales, bills):
    html = page_as(sales).get("/dashboard?status=sent&customer=acme", **htmx("status-counts"))
    counts = dict(re.findall(r'tab-label">(\w+)</span> <span class="tab-count">(\d+)<', html.text))
    assert counts == {
        "All": "2",
        "Draft": "1",
        "Approved": "1",
        "Rejected": "0",
        "Sent": "0",
        "Paid": "0",
        "Void": "0",
    }


def test_usage_changed_finds_stale_unsent_and_flagged_sent_bills(finance, api_as, bill_in):
    from bills.services import bill_dismiss_usage_change
    from usage.models import Usage

    stale_draft = bill_in(Status.DRAFT, api_usage=1_400_000)
    current_draft = bill_in(Status.DRAFT, api_usage=1_400_000)
    flagged = bill_in(Status.SENT, api_usage=1_400_000)
    dismissed = bill_in(Status.SENT, api_usage=1_400_000)
    void = bill_in(Status.VOID, api_usage=1_400_000)
    for bill in (stale_draft, flagged, dismissed, void):
        Usage.objects.filter(customer=bill.customer).update(api_usage=1_500_000)
    bill_dismiss_usage_change(bill=dismissed, user=finance, comment="Agreed as sent.")
    client = api_as(finance)
    changed = {r["id"] for r in client.get("/api/bills?usage_changed=true").json()["results"]}
    assert changed == {stale_draft.pk, flagged.pk}
    unchanged = {r["id"] for r in client.get("/api/bills?usage_changed=false").json()["results"]}
    assert unchanged == {current_draft.pk, dismissed.pk, void.pk}


def test_the_dashboard_filters_bills_whose_usage_changed(finance, page_as, bill_in):
    from usage.models import Usage

    flagged = bill_in(Status.SENT, api_usage=1_400_000)
    bill_in(Status.SENT, api_usage=1_400_000)
    Usage.objects.filter(customer=flagged.customer).update(api_usage=1_500_000)
    html = page_as(finance).get("/dashboard?usage_changed=true").content.decode()
    assert html.count('<tr id="bill-row-') == 1 and f'id="bill-row-{flagged.pk}"' in html
    assert "usage changed after sending" in html
    assert '<select name="usage_changed"' in html
