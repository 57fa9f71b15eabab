"""The bill tally (bills.models_tally, issue 14): the per-(period, status) counts and exact
totals that PostgreSQL's triggers keep equal to the bills themselves through every kind of
write, and the readers that use them for an unfiltered list only.

The expected figures are written out by hand for the scenario below, and compared with a
plain GROUP BY of the bills too."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.test.utils import CaptureQueriesContext

from billing_site.core import periods
from bills.filters import BillFilterSet
from bills.models import Bill, BillTally
from bills.paging import bill_pages
from bills.selectors import bill_list, bill_status_totals
from bills.services import (
    bill_approve,
    bill_generate,
    bill_rebill,
    bill_reject,
    bill_send,
    bill_void,
    payment_record,
    payment_undo,
)
from bills.tally import tally_compact, tally_periods, tally_scope, tally_statuses
from tests.factories import CustomerFactory, UsageFactory, make_bill

FOLD_EVERY = importlib.import_module("bills.migrations.0017_bill_tally").FOLD_EVERY

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's triggers keep the tally"
)


def _live() -> dict:
    """{(year, month, status): (bills, overage_amount, amount_paid)} counted from the bills."""
    rows = Bill.objects.values_list("year", "month", "status").annotate(
        n=Count("id"), a=Sum("overage_amount"), p=Sum("amount_paid")
    )
    return {(y, m, s): (n, a, p) for y, m, s, n, a, p in rows.order_by()}


def _tallied() -> dict:
    """The same, added up from the tally's rows (keys whose figures are all zero left out)."""
    rows = BillTally.objects.values_list("year", "month", "status").annotate(
        n=Sum("bills"), a=Sum("overage_amount"), p=Sum("amount_paid")
    )
    return {(y, m, s): (n, a, p) for y, m, s, n, a, p in rows.order_by() if n or a or p}


def test_the_tally_follows_every_kind_of_bill_write(finance, sales):
    year, month = periods.last_ended_month()
    py, pm = periods.previous_month(year, month)
    # Three bills of the last month by the month end (2.50, 5.00 and 7.50 of overage: 1,000,
    # 2,000 and 3,000 calls over the default limit at 0.0025), one of the month before by hand.
    for usage in (1_001_000, 1_002_000, 1_003_000):
        UsageFactory(customer=CustomerFactory(), year=year, month=month, api_usage=usage)
    bill_generate(year=year, month=month, user=finance)
    a, b, c = Bill.objects.filter(year=year, month=month).order_by("api_usage")
    old = make_bill(finance=finance, year=py, month=pm, api_usage=1_004_000)
    assert (a.overage_amount, b.overage_amount, c.overage_amount, old.overage_amount) == (
        Decimal("2.50"),
        Decimal("5.00"),
        Decimal("7.50"),
        Decimal("10.00"),
    )

    bill_approve(bill=a, user=sales)
    bill_approve(bill=b, user=sales)
    bill_reject(bill=c, user=sales, comment="agreed to waive")
    sent = bill_send(bill=a, user=finance)
    payment = payment_record(
        bill=sent, user=finance, date=periods.today(), amount="1.00", reference="wire 1"
    )
    payment_record(bill=sent, user=finance, date=periods.today(), amount="0.25", reference="w2")
    payment_undo(payment=payment, user=finance, comment="bounced")
    bill_send(bill=b, user=finance)
    bill_void(bill=b, user=finance, comment="wrong terms")
    bill_rebill(bill=b, user=finance)

    expected = {
        (year, month, "sent"): (1, Decimal("2.50"), Decimal("0.25")),
        (year, month, "void"): (1, Decimal("5.00"), Decimal("0.00")),
        (year, month, "draft"): (1, Decimal("5.00"), Decimal("0.00")),
        (year, month, "rejected"): (1, Decimal("7.50"), Decimal("0.00")),
        (py, pm, "draft"): (1, Decimal("10.00"), Decimal("0.00")),
    }
    assert _live() == expected
    assert _tallied() == expected

    # A plain UPDATE, and an INSERT and a DELETE of a bill without history, count too.
    Bill.objects.filter(pk=old.pk).update(status="approved")
    old.refresh_from_db()
    old.pk, old.customer = None, CustomerFactory()
    [clone] = Bill.objects.bulk_create([old])
    assert _tallied()[(py, pm, "approved")] == (2, Decimal("20.00"), Decimal("0.00"))
    Bill.objects.filter(pk=clone.pk).delete()
    del expected[(py, pm, "draft")]
    expected[(py, pm, "approved")] = (1, Decimal("10.00"), Decimal("0.00"))
    assert _tallied() == _live() == expected


def test_compacting_folds_the_rows_and_keeps_the_figures(finance, sales):
    bills = [make_bill(finance=finance) for _ in range(4)]
    for bill in bills[:3]:
        bill_approve(bill=bill, user=sales)
    before = _tallied()
    assert BillTally.objects.count() > len(before)  # one row per change so far
    tally_compact()
    assert _tallied() == before == _live()
    year, month = periods.last_ended_month()
    assert sorted(BillTally.objects.values_list("year", "month", "status", "bills")) == [
        (year, month, "approved", 3),
        (year, month, "draft", 1),
    ]


def test_the_tally_stays_a_few_hundred_rows_however_many_changes(finance):
    bill = make_bill(finance=finance)
    for i in range(3 * FOLD_EVERY // 2):  # 300 change rows, at two per update
        Bill.objects.filter(pk=bill.pk).update(status="approved" if i % 2 == 0 else "draft")
    assert BillTally.objects.count() <= FOLD_EVERY + 2  # folded on the way
    assert _tallied() == _live()


def test_a_truncate_empties_the_tally(finance):
    make_bill(finance=finance)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no foreign-key check pending
        cursor.execute("SET LOCAL billing.maintenance = 'on'")
        cursor.execute("TRUNCATE bills_bill CASCADE")
    assert _tallied() == {}


def test_the_readers_agree_with_counting_the_bills(finance, sales):
    year, month = periods.last_ended_month()
    py, pm = periods.previous_month(year, month)
    for _ in range(3):
        make_bill(finance=finance)
    approved = make_bill(finance=finance, year=py, month=pm, api_usage=2_000_000)
    bill_approve(bill=approved, user=sales)
    assert tally_periods() == [(year, month, 3), (py, pm, 1)]
    assert tally_periods(status="draft") == [(year, month, 3)]
    assert tally_periods(status="approved") == [(py, pm, 1)]
    assert tally_periods(status="sent") == []
    assert tally_statuses(status="approved") == {
        "approved": (1, (Decimal("2500.00"), Decimal("0.00"))),
    }
    assert tally_statuses() == {
        "draft": (3, (Decimal("3750.00"), Decimal("0.00"))),
        "approved": (1, (Decimal("2500.00"), Decimal("0.00"))),
    }


# Which lists the tally can count (tally_scope): every bill, or every bill of one status.
SCOPES = [
    (lambda: bill_list(), {}),
    (lambda: Bill.objects.all(), {}),
    (lambda: bill_list().order_by("-overage_amount"), {}),
    (lambda: bill_list().filter(status="draft"), {"status": "draft"}),
    (lambda: Bill.objects.filter(status="sent").order_by("id"), {"status": "sent"}),
    (
        lambda: BillFilterSet(data={"status": "approved"}, queryset=bill_list()).qs,
        {"status": "approved"},
    ),
    (lambda: bill_list().filter(status__in=["draft"]), None),
    (lambda: bill_list().exclude(status="draft"), None),
    (lambda: bill_list().filter(status="draft", year=2026), None),
    (lambda: bill_list().filter(status="draft").filter(customer__name__icontains="a"), None),
    (lambda: bill_list().filter(Q(status="draft") | Q(status="sent")), None),
    (lambda: bill_list().filter(replaced_by__status="draft"), None),
    (lambda: bill_list().filter(status=F("replaced_by__status")), None),
    (lambda: bill_list().filter(customer__name__icontains="a"), None),
    (lambda: BillFilterSet(data={"customer": "a"}, queryset=bill_list()).qs, None),
    (lambda: bill_list().distinct(), None),
    (lambda: bill_list()[:5], None),
]


@pytest.mark.parametrize(("bills", "scope"), SCOPES)
def test_only_every_bill_or_one_status_reads_the_tally(finance, bills, scope):
    make_bill(finance=finance)
    assert tally_scope(bills()) == scope


def _reads(run) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        run()
    return [q["sql"] for q in queries.captured_queries]


def test_an_unfiltered_list_counts_from_the_tally_and_a_filtered_one_from_the_bills(finance):
    bill = make_bill(finance=finance)
    grouped_bills = 'FROM "bills_bill" GROUP BY'

    every = _reads(lambda: (bill_pages(bill_list()).count(), bill_status_totals()))
    assert all(grouped_bills not in sql for sql in every), every
    assert sum('FROM "bills_billtally"' in sql for sql in every) == 2, every

    drafts = bill_list().filter(status="draft")
    one_status = _reads(lambda: (bill_pages(drafts).count(), bill_status_totals(bills=drafts)))
    assert all(grouped_bills not in sql for sql in one_status), one_status
    assert bill_pages(drafts).count() == 1
    assert bill_pages(bill_list().filter(status="sent")).count() == 0

    named = bill_list().filter(customer__name=bill.customer.name)
    some = _reads(lambda: (bill_pages(named).count(), bill_status_totals(bills=named)))
    assert not any("bills_billtally" in sql for sql in some), some
    assert bill_pages(named).count() == 1
    assert bill_status_totals(bills=named)[0]["count"] == 1


def test_the_dashboard_and_the_api_list_show_the_tallied_figures(finance, client, api_as):
    for _ in range(2):
        make_bill(finance=finance)
    client.force_login(finance)
    assert api_as(finance).get("/api/bills").json()["count"] == 2
    html = client.get("/dashboard").content.decode()
    assert "2,500.00" in html  # the two drafts' 1,250.00 each, as the draft tile's total
