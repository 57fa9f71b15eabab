"""Aging on fixed dates: what sent bills still owe by days past their invoice's due date, as the
selector adds it up (counts and exact balances) and as the outstanding, overdue and aging
filters of GET /api/bills, GET /api/bills.csv and the dashboard select it.

Today is fixed at 30 June 2026 (the clock is the one thing outside the system we stand in for).
Each bill is of its own customer for 2025-03, at 0.0025 per call over 1,000,000 calls; its
invoice is dated 2 April 2025 and due the day written below, relative to today.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from billing_site.core import periods
from bills.aging import bill_aging_totals
from bills.models import Invoice, Status
from bills.models_payments import AGING_BUCKETS
from bills.services import payment_record
from tests.factories import CustomerFactory, htmx

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 30)

# name: (calls, days from today to the due date, paid so far, status it ends in)
BOOK = {
    "A": (1_040_000, 5, "0", "sent"),  # 100.00, due in 5 days
    "B": (1_080_000, 0, "50.25", "sent"),  # 200.00, due today: not yet overdue
    "C": (1_120_000, -1, "0", "sent"),  # 300.00, 1 day past due
    "D": (1_160_000, -30, "0.01", "sent"),  # 400.00
    "E": (1_200_000, -31, "0", "sent"),  # 500.00
    "F": (1_240_000, -60, "0", "sent"),  # 600.00
    "G": (1_280_000, -61, "0", "sent"),  # 700.00
    "H": (1_320_000, -90, "0", "sent"),  # 800.00
    "I": (1_360_000, -91, "0", "sent"),  # 900.00
    "J": (1_400_000, -100, "1000.00", "paid"),  # 1,000.00, paid in full: owes nothing
}


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(periods, "today", lambda: TODAY)
    return TODAY


@pytest.fixture
def book(today, bill_in, finance):
    """The bills of BOOK by name, plus a draft "K" and a void "L" (neither is owed)."""
    bills = {}
    for name, (calls, due_in, paid, status) in BOOK.items():
        customer = CustomerFactory(name=f"Aging {name}")
        bill = bill_in(Status.SENT, customer=customer, api_usage=calls)
        Invoice.objects.filter(bill=bill).update(
            issued_on=date(2025, 4, 2), due_on=today + timedelta(days=due_in)
        )
        if paid != "0":
            payment_record(
                bill=bill, user=finance, date=date(2026, 6, 1), amount=paid, reference="TR"
            )
        bill.refresh_from_db()
        assert bill.status == status
        bills[name] = bill
    bills["K"] = bill_in(Status.DRAFT, customer=CustomerFactory(name="Aging K"))
    bills["L"] = bill_in(Status.VOID, customer=CustomerFactory(name="Aging L"))
    return bills


@pytest.mark.parametrize(
    ("days", "key"),
    [
        (-3, "current"),
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
        (4000, "90+"),
    ],
)
def test_each_number_of_days_past_due_is_in_exactly_one_bucket(days, key):
    assert [b.key for b in AGING_BUCKETS if b.holds(days)] == [key]


def test_the_buckets_are_the_reports_five(db):
    buckets = [(b.key, b.label, b.min_days, b.max_days) for b in AGING_BUCKETS]
    assert buckets == [
        ("current", "Not yet due", None, 0),
        ("1-30", "1–30 days", 1, 30),
        ("31-60", "31–60 days", 31, 60),
        ("61-90", "61–90 days", 61, 90),
        ("90+", "Over 90 days", 91, None),
    ]


def test_the_totals_count_and_add_up_each_bucket_exactly(book, django_assert_num_queries):
    with django_assert_num_queries(1):
        totals = bill_aging_totals()
    assert totals == {
        "outstanding": {"count": 9, "amount": Decimal("4449.74")},
        "overdue": {"count": 7, "amount": Decimal("4199.99")},
        "buckets": [
            {"key": "current", "label": "Not yet due", "count": 2, "amount": Decimal("249.75")},
            {"key": "1-30", "label": "1–30 days", "count": 2, "amount": Decimal("699.99")},
            {"key": "31-60", "label": "31–60 days", "count": 2, "amount": Decimal("1100.00")},
            {"key": "61-90", "label": "61–90 days", "count": 2, "amount": Decimal("1500.00")},
            {"key": "90+", "label": "Over 90 days", "count": 1, "amount": Decimal("900.00")},
        ],
    }


def test_the_totals_move_with_today(book):
    later = bill_aging_totals(today=TODAY + timedelta(days=1))
    assert [(b["key"], b["count"]) for b in later["buckets"]] == [
        ("current", 1),  # A; B (due yesterday now) is 1 day past due
        ("1-30", 2),  # B, C (2 days); D (31 days) moved on
        ("31-60", 2),  # D, E; F (61 days) moved on
        ("61-90", 2),  # F, G; H (91 days) moved on
        ("90+", 2),  # H, I
    ]


def test_the_totals_of_some_bills(book):
    some = book["C"].__class__.objects.filter(customer__name__in=["Aging C", "Aging J"])
    totals = bill_aging_totals(bills=some)
    assert totals["outstanding"] == {"count": 1, "amount": Decimal("300.00")}
    assert [b["count"] for b in totals["buckets"]] == [0, 1, 0, 0, 0]


def test_a_bill_knows_its_balance_and_whether_it_is_overdue(book):
    b, c, j, k = book["B"], book["C"], book["J"], book["K"]
    assert (b.balance_due, b.overdue, b.aging_bucket.key) == (Decimal("149.75"), False, "current")
    assert (c.balance_due, c.overdue, c.aging_bucket.key) == (Decimal("300.00"), True, "1-30")
    assert (j.balance_due, j.overdue, j.aging_bucket) == (Decimal("0.00"), False, None)
    assert (k.balance_due, k.overdue, k.aging_bucket) == (None, False, None)


# --- the filters: API, CSV, dashboard -------------------------------------------------------


def names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {r["customer_name"].removeprefix("Aging ") for r in response.json()["results"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("outstanding=true", set("ABCDEFGHI")),
        ("outstanding=false", set("JKL")),
        ("overdue=true", set("CDEFGHI")),
        ("overdue=false", set("ABJKL")),
        ("aging=current", set("AB")),
        ("aging=1-30", set("CD")),
        ("aging=31-60", set("EF")),
        ("aging=61-90", set("GH")),
        ("aging=90%2B", set("I")),
        ("overdue=true&aging=current", set()),
        ("status=paid", set("J")),
    ],
)
def test_the_api_filters_by_balance_and_days_past_due(book, finance, api_as, query, expected):
    assert names(api_as(finance).get(f"/api/bills?{query}")) == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [("aging=100", "aging"), ("overdue=maybe", "overdue"), ("outstanding=2", "outstanding")],
)
def test_a_bad_aging_filter_is_a_400_naming_it(today, finance, api_as, query, field):
    response = api_as(finance).get(f"/api/bills?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_the_bill_json_says_what_is_paid_due_and_late(book, finance, api_as):
    body = api_as(finance).get(f"/api/bills/{book['D'].pk}").json()
    assert {k: body[k] for k in ("status", "amount_paid", "balance_due", "due_on", "overdue")} == {
        "status": "sent",
        "amount_paid": "0.01",
        "balance_due": "399.99",
        "due_on": "2026-05-31",
        "overdue": True,
    }
    draft = api_as(finance).get(f"/api/bills/{book['K'].pk}").json()
    assert (draft["amount_paid"], draft["balance_due"], draft["overdue"]) == ("0.00", None, False)


def test_the_csv_takes_the_same_filters_and_has_the_columns(book, finance, api_as):
    response = api_as(finance).get("/api/bills.csv?overdue=true&aging=1-30")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [
        {k: r[k] for k in ("customer_name", "amount_paid", "balance_due", "due_on", "overdue")}
        for r in sorted(rows, key=lambda r: r["customer_name"])
    ] == [
        {
            "customer_name": "Aging C",
            "amount_paid": "0.00",
            "balance_due": "300.00",
            "due_on": "2026-06-29",
            "overdue": "true",
        },
        {
            "customer_name": "Aging D",
            "amount_paid": "0.01",
            "balance_due": "399.99",
            "due_on": "2026-05-31",
            "overdue": "true",
        },
    ]


def aging_tiles(html: str) -> dict[str, tuple[str, str]]:
    """{"Outstanding": (count, amount), "1–30 days": ...} as the aging tiles show them."""
    found = re.findall(
        r'aging-label">([^<]+)</span> <span class="tab-count aging-count">([\d,]+)</span>.*?'
        r'aging-amount">USD\xa0([\d,.]+)</span>',
        html,
        re.S,
    )
    return {label: (count, amount) for label, count, amount in found}


EXPECTED_TILES = {
    "Outstanding": ("9", "4,449.74"),
    "Overdue": ("7", "4,199.99"),
    "Not yet due": ("2", "249.75"),
    "1–30 days": ("2", "699.99"),
    "31–60 days": ("2", "1,100.00"),
    "61–90 days": ("2", "1,500.00"),
    "Over 90 days": ("1", "900.00"),
}


def test_the_dashboard_shows_the_aging_tiles(book, finance, page_as):
    html = page_as(finance).get("/dashboard").content.decode()
    assert aging_tiles(html) == EXPECTED_TILES
    assert 'href="?overdue=true"' in html
    assert 'href="?aging=31-60"' in html


def test_the_aging_tiles_ignore_the_status_and_their_own_filters(book, finance, page_as):
    html = page_as(finance).get("/dashboard?status=draft&aging=90%2B&overdue=true").content
    assert aging_tiles(html.decode()) == EXPECTED_TILES


def test_the_aging_tiles_follow_the_customer_filter(book, finance, page_as):
    html = page_as(finance).get("/dashboard?customer=Aging+C").content.decode()
    assert aging_tiles(html)["Overdue"] == ("1", "300.00")


def test_an_aging_tile_filters_the_table(book, finance, page_as):
    html = page_as(finance).get("/dashboard?aging=31-60", **htmx("bill-index")).content.decode()
    rows = re.findall(r'<tr id="bill-row-(\d+)"', html)
    assert sorted(int(pk) for pk in rows) == sorted([book["E"].pk, book["F"].pk])
    assert re.search(r'<a class="tab tab-aging tab-aging-3"[^>]*aria-current="true"', html, re.S)
    # the filter form's selects follow, out of band
    assert '<select name="aging" hx-swap-oob="true" id="id_aging">' in html
    # inside the table's fragment the tiles are part of it, not swapped out of band
    assert '<section id="aging-tiles" class="aging-tiles" aria-labelledby="aging-title">' in html


def test_the_status_counts_fragment_brings_the_aging_tiles_out_of_band(book, finance, page_as):
    html = page_as(finance).get("/dashboard", **htmx("status-counts")).content.decode()
    assert html.lstrip().startswith('<nav id="status-counts"')
    assert (
        'id="aging-tiles" class="aging-tiles" aria-labelledby="aging-title" hx-swap-oob="true"'
        in html
    )
    assert aging_tiles(html) == EXPECTED_TILES


def test_an_overdue_row_is_marked(book, finance, page_as):
    html = page_as(finance).get("/dashboard?customer=Aging+C").content.decode()
    row = re.search(rf'<tr id="bill-row-{book["C"].pk}".*?</tr>', html, re.S).group(0)
    assert ">overdue</span>" in row
    html = page_as(finance).get("/dashboard?customer=Aging+B").content.decode()
    row = re.search(rf'<tr id="bill-row-{book["B"].pk}".*?</tr>', html, re.S).group(0)
    assert ">overdue</span>" not in row
