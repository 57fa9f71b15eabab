"""Bill history: exactly one row per change, naming who did it; nobody may edit or delete it."""

import pytest
from django.db import DatabaseError, connection, transaction

from billing_site.core.errors import DomainError
from bills.models import Action, Bill, BillAction, Status
from bills.services import (
    bill_approve,
    bill_reject,
    bill_revert,
    bill_send,
    bill_update,
    bill_void,
)


def test_every_change_writes_exactly_one_row_with_actor_and_statuses(
    bill_in, customer, finance, sales, csm
):
    customer.require_csm_approval = True
    customer.save()
    bill = bill_in(Status.DRAFT, customer=customer)
    bill = bill_approve(bill=bill, user=csm, comment="Matches the gateway logs.")
    bill = bill_approve(bill=bill, user=sales)
    bill = bill_revert(bill=bill, user=sales, comment="Wait for the PO.")
    bill = bill_reject(bill=bill, user=csm, comment="Customer disputes the spike.")
    bill = bill_update(bill=bill, user=finance, comment="Half price.", overage_unit_cost="0.00125")
    bill = bill_approve(bill=bill, user=csm)
    bill = bill_approve(bill=bill, user=sales)
    bill = bill_send(bill=bill, user=finance)
    bill = bill_void(bill=bill, user=finance, comment="Wrong entity.")

    rows = [
        (a.action, a.stakeholder.name, a.from_status, a.to_status)
        for a in BillAction.objects.filter(bill=bill).order_by("id")
    ]
    assert rows == [
        (Action.CREATED, "fiona", "", Status.DRAFT),
        (Action.APPROVED, "casey", Status.DRAFT, Status.DRAFT),
        (Action.APPROVED, "sam", Status.DRAFT, Status.APPROVED),
        (Action.REVERTED, "sam", Status.APPROVED, Status.DRAFT),
        (Action.REJECTED, "casey", Status.DRAFT, Status.REJECTED),
        (Action.UPDATED, "fiona", Status.REJECTED, Status.DRAFT),
        (Action.APPROVED, "casey", Status.DRAFT, Status.DRAFT),
        (Action.APPROVED, "sam", Status.DRAFT, Status.APPROVED),
        (Action.SENT, "fiona", Status.APPROVED, Status.SENT),
        # The outbox's row: the invoice email is queued; the status stays as it is.
        (Action.EMAIL_QUEUED, "fiona", Status.SENT, Status.SENT),
        (Action.VOIDED, "fiona", Status.SENT, Status.VOID),
        (Action.EMAIL_QUEUED, "fiona", Status.VOID, Status.VOID),
    ]
    comments = list(BillAction.objects.filter(bill=bill).values_list("comment", flat=True))
    assert comments[1] == "Matches the gateway logs."
    assert comments[4] == "Customer disputes the spike."


def test_a_refused_action_writes_no_history(bill_in, customer, other_csm, sales):
    bill = bill_in(Status.DRAFT, customer=customer)
    with pytest.raises(DomainError):
        bill_approve(bill=bill, user=other_csm)
    with pytest.raises(DomainError):
        bill_revert(bill=bill, user=sales, comment="Nothing to undo.")
    assert bill.actions.count() == 1


def test_saving_a_bill_outside_the_services_is_refused_before_the_write(bill_in):
    bill = bill_in(Status.DRAFT)
    bill.status = Status.SENT
    with pytest.raises(RuntimeError, match="history"):
        bill.save()
    bill.refresh_from_db()
    assert bill.status == Status.DRAFT
    assert bill.actions.count() == 1


def test_creating_a_bill_outside_the_services_is_refused(customer):
    bill = Bill(
        customer=customer,
        year=2025,
        month=1,
        api_usage=2,
        monthly_api_limit=1,
        overage_units=1,
        overage_unit_cost="1",
        overage_amount="1",
    )
    with pytest.raises(RuntimeError, match="history"):
        bill.save()
    assert not Bill.objects.exists()


def test_database_refuses_to_update_history(bill_in):
    action = bill_in(Status.DRAFT).actions.get()
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE bills_billaction SET comment = %s WHERE id = %s", ["rewritten", action.pk]
        )
    action.refresh_from_db()
    assert action.comment == ""


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has no DELETE trigger: Django's test flush empties tables with DELETE there",
)
def test_database_refuses_to_delete_history(bill_in):
    bill = bill_in(Status.DRAFT)
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM bills_billaction WHERE bill_id = %s", [bill.pk])
    assert bill.actions.count() == 1


def test_orm_refuses_to_edit_history(bill_in):
    action = bill_in(Status.DRAFT).actions.get()
    action.comment = "rewritten"
    with pytest.raises(PermissionError):
        action.save()
    with pytest.raises(PermissionError):
        BillAction.objects.filter(pk=action.pk).update(comment="rewritten")
    with pytest.raises(PermissionError), transaction.atomic():
        BillAction.objects.bulk_update([action], ["comment"])
    action.refresh_from_db()
    assert action.comment == ""


def test_orm_refuses_to_delete_history(bill_in):
    action = bill_in(Status.DRAFT).actions.get()
    with pytest.raises(PermissionError):
        action.delete()
    with pytest.raises(PermissionError):
        BillAction.objects.filter(pk=action.pk).delete()
    assert BillAction.objects.filter(pk=action.pk).exists()
