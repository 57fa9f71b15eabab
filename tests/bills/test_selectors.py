"""bills.selectors: what a list or a page reads, joined up front, in the documented order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bills.models import Bill, Status
from bills.selectors import bill_get, bill_list, bill_status_totals
from bills.services import bill_approve
from tests.factories import MONTH, YEAR, CustomerFactory, make_bill
from usage.models import Usage

pytestmark = pytest.mark.django_db


def test_bill_list_is_newest_period_first_then_by_customer_name(finance, csm):
    zeta = CustomerFactory(name="Zeta", csm=csm)
    alpha = CustomerFactory(name="Alpha")
    made = [
        make_bill(customer=zeta, finance=finance, year=2025, month=1),
        make_bill(customer=zeta, finance=finance, year=2025, month=3),
        make_bill(customer=alpha, finance=finance, year=2025, month=3),
        make_bill(customer=alpha, finance=finance, year=2024, month=12),
    ]
    assert [b.pk for b in bill_list()] == [made[2].pk, made[1].pk, made[0].pk, made[3].pk]


def test_bill_list_rows_need_no_further_query(finance, csm, django_assert_num_queries):
    for i in range(3):
        make_bill(customer=CustomerFactory(name=f"C{i}", csm=csm), finance=finance)
    with django_assert_num_queries(1):
        rows = [(b.customer.name, b.customer.csm.name, b.usage_changed) for b in bill_list()]
    assert rows == [("C0", "casey", False), ("C1", "casey", False), ("C2", "casey", False)]


def test_bill_list_carries_the_current_usage(finance, customer):
    bill = make_bill(customer=customer, finance=finance, year=YEAR, month=MONTH)
    Usage.objects.filter(customer=customer).update(api_usage=1_600_000)
    (row,) = bill_list()
    assert (row.pk, row.current_usage, row.usage_changed) == (bill.pk, 1_600_000, True)


def test_bill_status_totals_count_and_add_up_each_status(finance, sales):
    bills = [
        make_bill(finance=finance, name=f"C{i}", api_usage=usage)
        for i, usage in enumerate((1_000_040, 1_000_080, 1_000_120))
    ]  # 0.10, 0.20 and 0.30
    Bill.objects.filter(pk=bills[2].pk).update(status=Status.APPROVED)
    totals = bill_status_totals()
    assert totals == [
        {
            "value": "draft",
            "label": "Draft",
            "count": 2,
            "amount": Decimal("0.30"),
            "paid": Decimal("0.00"),
        },
        {
            "value": "approved",
            "label": "Approved",
            "count": 1,
            "amount": Decimal("0.30"),
            "paid": Decimal("0.00"),
        },
        {
            "value": "rejected",
            "label": "Rejected",
            "count": 0,
            "amount": Decimal("0.00"),
            "paid": Decimal("0.00"),
        },
        {
            "value": "sent",
            "label": "Sent",
            "count": 0,
            "amount": Decimal("0.00"),
            "paid": Decimal("0.00"),
        },
        {
            "value": "paid",
            "label": "Paid",
            "count": 0,
            "amount": Decimal("0.00"),
            "paid": Decimal("0.00"),
        },
        {
            "value": "void",
            "label": "Void",
            "count": 0,
            "amount": Decimal("0.00"),
            "paid": Decimal("0.00"),
        },
    ]


def test_bill_status_totals_of_some_bills(finance, django_assert_num_queries):
    make_bill(finance=finance, name="Acme", api_usage=1_000_400)  # 1.00
    make_bill(finance=finance, name="Globex", api_usage=1_000_800)  # 2.00
    some = bill_list().filter(customer__name="Globex")
    with django_assert_num_queries(1):
        totals = bill_status_totals(bills=some)
    assert totals[0] == {
        "value": "draft",
        "label": "Draft",
        "count": 1,
        "amount": Decimal("2.00"),
        "paid": Decimal("0.00"),
    }


def test_bill_get_with_or_without_its_history(
    finance, sales, customer, unmanaged_customer, django_assert_num_queries
):
    bill = make_bill(customer=customer, finance=finance)
    # the bill, its history, its payments, its emails, the people named on it (the CSM)
    with django_assert_num_queries(5):
        full = bill_get(bill.pk)
        assert [a.action for a in full.actions.all()] == ["created"]
        assert (full.customer.csm.name, full.csm_approved_by, full.sales_approved_by) == (
            customer.csm.name,
            None,
            None,
        )
    approved = bill_approve(
        bill=make_bill(customer=unmanaged_customer, finance=finance), user=sales
    )
    with django_assert_num_queries(5):  # one query for the people, however many
        full = bill_get(approved.pk)
        assert (full.customer.csm, full.sales_approved_by.name) == (None, sales.name)
    unnamed = make_bill(customer=unmanaged_customer, finance=finance, year=2024, month=1)
    with django_assert_num_queries(4):  # nobody named: no query for them
        assert bill_get(unnamed.pk).customer.csm is None
    with django_assert_num_queries(1):
        row = bill_get(bill.pk, history=False)
        assert (row.customer.name, row.usage_changed) == ("Acme Corp", False)
    assert bill_get(4242) is None
