"""Money is exact at any magnitude the columns allow, on PostgreSQL and on the SQLite default:
amounts read back as stored, the dashboard's tiles and "All" (what is owed), the order by amount
and the CSV. CI runs this file on both databases."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal, localcontext

import pytest

from billing_site.core import periods
from bills.models import Bill, Status
from bills.paging import bill_pages
from bills.selectors import bill_list, bill_list_totals, bill_status_totals, bill_total_owed
from bills.services import bill_approve, bill_reject, bill_send, bill_void
from tests.factories import CustomerFactory, make_bill

# The largest amount the inputs allow: 64-bit usage over a zero limit at the largest unit cost.
MAX_USAGE = 2**63 - 1
MAX_COST = Decimal("99999999.999999")
MAX_AMOUNT = Decimal("922337203685468357327963145.22")  # MAX_USAGE x MAX_COST, half-up


def _huge(finance, name: str) -> Bill:
    customer = CustomerFactory(name=name, monthly_api_limit=0, overage_unit_cost=MAX_COST)
    return make_bill(customer=customer, finance=finance, api_usage=MAX_USAGE)


def test_the_largest_amount_reads_back_exactly(finance):
    bill = _huge(finance, "Huge")
    assert Bill.objects.get(pk=bill.pk).overage_amount == MAX_AMOUNT
    assert len(str(MAX_AMOUNT).split(".")[0]) == 27  # the column's 27 integer digits


def test_status_totals_and_what_is_owed_are_exact(finance, sales):
    _huge(finance, "Huge A")
    _huge(finance, "Huge B")
    cents = make_bill(finance=finance, name="Cents", api_usage=1_000_040)  # 0.10
    rejected = bill_reject(
        bill=make_bill(finance=finance, name="Written off", api_usage=1_400_000),
        user=sales,
        comment="Goodwill.",
    )
    void = make_bill(finance=finance, name="Cancelled", api_usage=1_800_000)
    void = bill_void(
        bill=bill_send(bill=bill_approve(bill=void, user=sales), user=finance),
        user=finance,
        comment="Wrong month.",
    )
    totals = {t["value"]: (t["count"], t["amount"]) for t in bill_status_totals()}
    with localcontext(prec=60):  # the default 28 digits would round the expectation itself
        draft_total = 2 * MAX_AMOUNT + Decimal("0.10")
    assert totals[Status.DRAFT] == (3, draft_total)
    assert totals[Status.REJECTED] == (1, rejected.overage_amount)
    assert totals[Status.VOID] == (1, void.overage_amount)
    # "All" is what is owed: the rejected and the void bill are not added in.
    assert bill_total_owed(bill_status_totals()) == draft_total
    assert cents.overage_amount == Decimal("0.10")


def test_the_dashboard_shows_the_exact_totals(finance, sales, page_as):
    _huge(finance, "Huge A")
    _huge(finance, "Huge B")
    bill_reject(
        bill=make_bill(finance=finance, name="Written off", api_usage=1_400_000),
        user=sales,
        comment="Goodwill.",
    )
    html = page_as(sales).get("/dashboard?awaiting=").content.decode()
    amounts = dict(
        re.findall(r'tab-label">(\w+)</span>.*?tab-amount"[^>]*>USD\xa0([\d,.]+)<', html, re.S)
    )
    with localcontext(prec=60):
        exact = f"{2 * MAX_AMOUNT:,.2f}"
    assert amounts["Draft"] == exact
    assert amounts["Rejected"] == "1,000.00"
    assert amounts["All"] == exact  # not 1,000.00 more: a rejected bill is written off


@pytest.mark.parametrize("overs", [(3_996, 4_000, 40_000, 400)])  # 9.99, 10.00, 100.00, 1.00
def test_bills_sort_by_amount_as_numbers(overs, finance, api_as):
    for i, over in enumerate(overs):
        make_bill(finance=finance, name=f"Sort {i}", api_usage=1_000_000 + over)
    results = api_as(finance).get("/api/bills?sort=amount").json()["results"]
    assert [r["overage_amount"] for r in results] == ["100.00", "10.00", "9.99", "1.00"]


def test_the_csv_carries_the_largest_amount_exactly(finance, api_as):
    _huge(finance, "Huge")
    response = api_as(finance).get("/api/bills.csv")
    (row,) = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    assert row["overage_amount"] == str(MAX_AMOUNT)


def test_all_counts_a_partly_paid_invoice_at_its_balance_due(finance, sales):
    from billing_site.core import periods
    from bills.services import payment_record

    draft = make_bill(finance=finance, name="Draft", api_usage=1_400_000)  # 1,000.00
    sent = make_bill(finance=finance, name="Sent", api_usage=1_800_000)  # 2,000.00
    sent = bill_send(bill=bill_approve(bill=sent, user=sales), user=finance)
    payment_record(bill=sent, user=finance, date=periods.today(), amount="750.25", reference="TR-1")
    paid = make_bill(finance=finance, name="Paid", api_usage=1_200_000)  # 500.00
    paid = bill_send(bill=bill_approve(bill=paid, user=sales), user=finance)
    payment_record(bill=paid, user=finance, date=periods.today(), amount="500.00", reference="TR-2")
    assert (draft.overage_amount, sent.overage_amount) == (Decimal("1000.00"), Decimal("2000.00"))
    totals = {t["value"]: (t["count"], t["amount"], t["paid"]) for t in bill_status_totals()}
    assert totals[Status.SENT] == (1, Decimal("2000.00"), Decimal("750.25"))
    assert totals[Status.PAID] == (1, Decimal("500.00"), Decimal("500.00"))
    # Owed: the draft in full, the sent invoice's balance, nothing of the paid one.
    assert bill_total_owed(bill_status_totals()) == Decimal("2249.75")


def test_a_filtered_lists_counts_per_period_and_status_are_exact(finance, sales):
    # bill_list_totals: the dashboard's one grouped query for a filtered list (not the tally),
    # on PostgreSQL and SQLite: per-period counts and exact status totals, as the two reads
    # it replaces give them.
    year, month = periods.last_ended_month()
    before = periods.previous_month(year, month)
    huge = {"monthly_api_limit": 0, "overage_unit_cost": MAX_COST}
    make_bill(finance=finance, name="Huge A", api_usage=MAX_USAGE, **huge)
    make_bill(
        finance=finance, name="Huge B", api_usage=MAX_USAGE, year=before[0], month=before[1], **huge
    )
    make_bill(finance=finance, name="Cents", api_usage=1_000_040)  # 0.10
    bill_reject(
        bill=make_bill(finance=finance, name="Written off", api_usage=1_400_000),
        user=sales,
        comment="Goodwill.",
    )
    make_bill(finance=finance, name="Left out", api_usage=1_400_000)
    bills = bill_list().exclude(customer__name="Left out")
    found_periods, statuses = bill_list_totals(bills)
    assert found_periods == [(year, month, 3), (*before, 1)]
    totals = {s["value"]: (s["count"], s["amount"]) for s in statuses if s["count"]}
    with localcontext(prec=60):
        assert totals == {
            Status.DRAFT: (3, 2 * MAX_AMOUNT + Decimal("0.10")),
            Status.REJECTED: (1, Decimal("1000.00")),
        }
    assert (found_periods, statuses) == (
        bill_pages(bills).periods,
        bill_status_totals(bills=bills),
    )
