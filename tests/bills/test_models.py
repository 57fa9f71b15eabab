"""Each rule of the bill and history tables is held by the database itself, not only by Python."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from bills.models import Bill, BillAction
from customers.models import Customer
from tests.factories import CustomerFactory, make_bill, refused_by_the_database


def _raw_bill(customer, **overrides):
    fields = dict(
        customer=customer,
        year=2026,
        month=1,
        api_usage=10,
        monthly_api_limit=5,
        overage_units=5,
        overage_unit_cost=Decimal("0.5"),
        overage_amount=Decimal("2.50"),
        status="draft",
    )
    fields.update(overrides)
    # bulk_create skips the history signal: these tests are about the table, not the workflow.
    return Bill.objects.bulk_create([Bill(**fields)])[0]


def test_money_keeps_six_places_for_unit_cost_and_two_for_amounts(db):
    customer = CustomerFactory(overage_unit_cost=Decimal("0.000125"))
    customer.refresh_from_db()
    assert customer.overage_unit_cost == Decimal("0.000125")
    bill = _raw_bill(
        customer, overage_unit_cost=Decimal("0.000125"), overage_amount=Decimal("12.34")
    )
    bill.refresh_from_db()
    assert isinstance(bill.overage_amount, Decimal)
    assert bill.overage_amount == Decimal("12.34")
    assert bill.overage_unit_cost == Decimal("0.000125")


def test_only_one_live_bill_per_customer_month(db):
    customer = CustomerFactory()
    _raw_bill(customer)
    refused_by_the_database(lambda: _raw_bill(customer))


def test_a_voided_bill_frees_the_customer_month(db):
    customer = CustomerFactory()
    _raw_bill(customer, status="void")
    _raw_bill(customer, status="void")
    _raw_bill(customer)  # a live bill beside voided ones
    assert Bill.objects.filter(customer=customer).count() == 3


@pytest.mark.parametrize("month", [0, 13])
def test_bill_month_must_be_1_to_12(db, month):
    customer = CustomerFactory()
    refused_by_the_database(lambda: _raw_bill(customer, month=month))


def test_bill_status_must_be_known(db):
    customer = CustomerFactory()
    refused_by_the_database(lambda: _raw_bill(customer, status="settled"))


def test_bill_amounts_cannot_be_negative(db):
    customer = CustomerFactory()
    refused_by_the_database(lambda: _raw_bill(customer, overage_amount=Decimal("-1.00")))
    refused_by_the_database(lambda: _raw_bill(customer, overage_units=-1))


def test_database_refuses_to_edit_bill_history(db, customer, finance):
    bill = make_bill(customer=customer, finance=finance)
    action = bill.actions.get()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE bills_billaction SET comment = %s WHERE id = %s", ["tampered", action.pk]
        )
    action.refresh_from_db()
    assert action.comment == ""


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="tests open SQLite's DELETE hatch (tests/core/test_maintenance.py closes it)",
)
def test_database_refuses_to_delete_bill_history(db, customer, finance):
    bill = make_bill(customer=customer, finance=finance)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM bills_billaction WHERE bill_id = %s", [bill.pk])
    assert bill.actions.count() == 1


def test_orm_refuses_to_edit_or_delete_bill_history(db, customer, finance):
    bill = make_bill(customer=customer, finance=finance)
    action = bill.actions.get()
    action.comment = "changed"
    with pytest.raises(PermissionError):
        action.save()
    with pytest.raises(PermissionError):
        action.delete()
    with pytest.raises(PermissionError):
        BillAction.objects.filter(pk=action.pk).update(comment="x")
    with pytest.raises(PermissionError):
        BillAction.objects.filter(pk=action.pk).delete()


def test_a_bill_with_history_cannot_be_deleted(db, customer, finance):
    bill = make_bill(customer=customer, finance=finance)
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        bill.delete()
    with pytest.raises(ProtectedError):
        Customer.objects.filter(pk=customer.pk).delete()
