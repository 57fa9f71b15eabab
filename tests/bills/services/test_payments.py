"""Payments on a sent bill (SPEC "Bill lifecycle": payment recorded): they add up, the bill is
paid once they cover its amount, an overpayment or a date in the future is refused, an undone
payment stays on record but stops counting, only Finance records them, and each writes one
history row carrying the payment.

Every bill here is Acme Corp's for 2025-03: 1,500,000 calls over a 1,000,000 limit at 0.0025,
so USD 1,250.00, its invoice issued on 2 April 2025 (set by hand: the services issue it today).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from billing_site.core import periods
from billing_site.core.errors import DomainError
from bills.models import Action, Bill, BillAction, Invoice, Payment, Status
from bills.services import bill_void, payment_record, payment_undo
from bills.services.history import describe_changes

pytestmark = pytest.mark.django_db

ISSUED = date(2025, 4, 2)


@pytest.fixture
def sent(bill_in, customer):
    """A sent bill of USD 1,250.00 whose invoice was issued on 2 April 2025."""
    bill = bill_in(Status.SENT, customer=customer)
    Invoice.objects.filter(bill=bill).update(issued_on=ISSUED, due_on=date(2025, 5, 2))
    assert bill.overage_amount == Decimal("1250.00")
    return bill


def pay(bill, user, amount, *, on=date(2025, 4, 10), reference="TR-1") -> Payment:
    return payment_record(bill=bill.pk, user=user, date=on, amount=amount, reference=reference)


def state(bill) -> tuple[str, Decimal]:
    bill.refresh_from_db()
    return bill.status, bill.amount_paid


def refused(call, kind: str, field: str | None = None) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.kind == kind, caught.value.message
    if field:
        assert list(caught.value.errors) == [field]
    return caught.value


# --- recording -----------------------------------------------------------------------------


def test_partial_payments_add_up_and_the_bill_stays_sent(sent, finance):
    pay(sent, finance, "500.00")
    pay(sent, finance, Decimal("250.50"), reference="TR-2")
    assert state(sent) == ("sent", Decimal("750.50"))
    assert sent.balance_due == Decimal("499.50")
    assert list(sent.payments.values_list("amount", "reference")) == [
        (Decimal("500.00"), "TR-1"),
        (Decimal("250.50"), "TR-2"),
    ]


def test_the_bill_is_paid_once_the_payments_cover_its_amount(sent, finance):
    pay(sent, finance, "1000.00")
    payment = pay(sent, finance, "250.00", reference="TR-2")
    assert payment.bill.status == "paid"
    assert state(sent) == ("paid", Decimal("1250.00"))
    assert sent.balance_due == Decimal("0.00")


def test_one_payment_of_the_whole_amount_pays_the_bill(sent, finance):
    pay(sent, finance, 1250)
    assert state(sent) == ("paid", Decimal("1250.00"))


def test_an_overpayment_is_refused_and_nothing_is_written(sent, finance):
    pay(sent, finance, "1000.00")
    error = refused(lambda: pay(sent, finance, "250.01"), "invalid", "amount")
    assert error.message == (
        "USD\xa0250.01 is more than the balance due (USD\xa0250.00): record at most the balance."
    )
    assert state(sent) == ("sent", Decimal("1000.00"))
    assert sent.payments.count() == 1
    assert sent.actions.filter(action="payment_recorded").count() == 1


DIGITS_AND_A_DOT = (
    "type digits with a dot for decimals, e.g. 125.50 (no commas, spaces, signs or exponents)."
)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "Enter an amount above 0.00."),
        ("0.00", "Enter an amount above 0.00."),
        ("-5", "Enter an amount above 0.00."),
        ("12.345", "Use at most 2 decimal places (cents)."),
        ("twelve", "“twelve” is not a number: " + DIGITS_AND_A_DOT),
        ("", "Enter a number, e.g. 125.50: the value is empty."),
        ("NaN", "“NaN” is not a number: " + DIGITS_AND_A_DOT),
        ("1e30", "“1e30” is not a number: " + DIGITS_AND_A_DOT),
        ("125,50", "“125,50” is not a number: " + DIGITS_AND_A_DOT),
        ("1" + "0" * 30, "The amount is too large."),
        (12.5, 'Send the amount as a decimal string, e.g. "125.50".'),
        (True, 'Send the amount as a decimal string, e.g. "125.50".'),
        (None, 'Send the amount as a decimal string, e.g. "125.50".'),
    ],
)
def test_a_bad_amount_is_refused_naming_the_field(sent, finance, amount, message):
    error = refused(lambda: pay(sent, finance, amount), "invalid", "amount")
    assert error.message == message
    assert state(sent) == ("sent", Decimal("0.00"))


def test_a_date_in_the_future_is_refused(sent, finance):
    tomorrow = periods.today() + timedelta(days=1)
    error = refused(lambda: pay(sent, finance, "10.00", on=tomorrow), "invalid", "date")
    assert "cannot be in the future" in error.message
    assert sent.payments.count() == 0


def test_today_and_the_issue_date_are_accepted_the_day_before_is_not(sent, finance):
    pay(sent, finance, "10.00", on=periods.today())
    pay(sent, finance, "10.00", on=ISSUED.isoformat())
    error = refused(lambda: pay(sent, finance, "10.00", on=date(2025, 4, 1)), "invalid", "date")
    assert error.message == (
        "The date received cannot be before the invoice was issued (2025-04-02)."
    )
    assert list(sent.payments.values_list("received_on", flat=True)) == [
        ISSUED,
        periods.today(),
    ]


@pytest.mark.parametrize("text", ["", "2025-13-01", "10/04/2025", "yesterday"])
def test_a_date_that_does_not_parse_is_refused(sent, finance, text):
    error = refused(lambda: pay(sent, finance, "10.00", on=text), "invalid", "date")
    assert error.message == "Enter the date the money was received as YYYY-MM-DD."


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("   ", "Enter the payment's reference, e.g. the bank transfer id."),
        ("x" * 201, "Keep the reference under 200 characters."),
        ("TR\x00-1", "The reference cannot contain null characters."),
    ],
)
def test_a_bad_reference_is_refused(sent, finance, reference, message):
    error = refused(lambda: pay(sent, finance, "10.00", reference=reference), "invalid")
    assert error.errors == {"reference": [message]}


@pytest.mark.parametrize("who", ["sales", "csm", "other_csm"])
def test_only_finance_records_and_undoes_payments(sent, finance, users, who):
    error = refused(lambda: pay(sent, users[who], "10.00"), "forbidden")
    assert error.message == f"Your role ({users[who].role}) may not record or undo payments."
    payment = pay(sent, finance, "10.00")
    refused(lambda: payment_undo(payment=payment, user=users[who], comment="No."), "forbidden")
    assert state(sent) == ("sent", Decimal("10.00"))


@pytest.mark.parametrize("status", ["draft", "approved", "rejected", "void"])
def test_no_payment_on_a_bill_that_is_not_sent(bill_in, customer, finance, status):
    bill = bill_in(status, customer=customer)
    error = refused(lambda: pay(bill, finance, "10.00", on=periods.today()), "conflict")
    assert error.message == f"Bill #{bill.pk} is {status}; only sent bills can be paid."
    assert Payment.objects.count() == 0


def test_no_payment_on_a_paid_bill(sent, finance):
    pay(sent, finance, "1250.00")
    error = refused(lambda: pay(sent, finance, "0.01"), "conflict")
    assert error.message == f"Bill #{sent.pk} is paid in full: nothing is left to pay."


def test_an_unknown_bill_is_not_found(finance):
    refused(
        lambda: payment_record(
            bill=424242, user=finance, date="2025-04-10", amount="1.00", reference="TR"
        ),
        "not_found",
    )


# --- history -------------------------------------------------------------------------------


def test_each_payment_writes_one_history_row_with_the_payment(sent, finance):
    rows = BillAction.objects.filter(bill=sent).count()
    first = pay(sent, finance, "500.00", on=date(2025, 4, 10), reference="BANK 77")
    second = pay(sent, finance, "750.00", on=date(2025, 4, 20), reference="BANK 78")
    actions = list(sent.actions.order_by("id"))[rows:]
    assert [(a.action, a.from_status, a.to_status, a.stakeholder_id) for a in actions] == [
        ("payment_recorded", "sent", "sent", finance.pk),
        ("payment_recorded", "sent", "paid", finance.pk),
    ]
    assert actions[0].changes == {
        "payment_id": first.pk,
        "payment_amount": "500.00",
        "received_on": "2025-04-10",
        "reference": "BANK 77",
        "amount_paid": ["0.00", "500.00"],
    }
    assert actions[1].changes["amount_paid"] == ["500.00", "1250.00"]
    assert describe_changes(actions[1].changes, currency="USD") == [
        f"Payment #{second.pk}: USD\xa0750.00 received 20 Apr 2025, reference BANK 78",
        "paid: USD\xa0500.00 → USD\xa01,250.00",
    ]


# --- undoing -------------------------------------------------------------------------------


def test_undoing_a_payment_of_a_paid_bill_returns_it_to_sent(sent, finance):
    pay(sent, finance, "1000.00")
    second = pay(sent, finance, "250.00", reference="TR-2")
    undone = payment_undo(payment=second.pk, user=finance, comment="Bounced.", bill=sent.pk)
    assert undone.bill.status == "sent"
    assert state(sent) == ("sent", Decimal("1000.00"))
    second.refresh_from_db()
    assert (second.counts, second.undone_by, second.undo_comment) == (False, finance, "Bounced.")
    assert second.amount == Decimal("250.00")  # kept as it was recorded
    row = sent.actions.order_by("id").last()
    assert (row.action, row.from_status, row.to_status, row.comment) == (
        "payment_undone",
        "paid",
        "sent",
        "Bounced.",
    )
    assert row.changes["amount_paid"] == ["1250.00", "1000.00"]
    assert row.changes["payment_id"] == second.pk


def test_undoing_a_partial_payment_keeps_the_bill_sent(sent, finance):
    payment = pay(sent, finance, "100.00")
    payment_undo(payment=payment, user=finance, comment="Wrong customer.")
    assert state(sent) == ("sent", Decimal("0.00"))
    assert Payment.objects.filter(pk=payment.pk).exists()


def test_undo_needs_a_comment(sent, finance):
    payment = pay(sent, finance, "100.00")
    error = refused(lambda: payment_undo(payment=payment, user=finance, comment=" "), "invalid")
    assert error.errors == {"comment": ["A comment is required to undo a payment."]}
    assert state(sent) == ("sent", Decimal("100.00"))


def test_a_payment_is_undone_once(sent, finance):
    payment = pay(sent, finance, "100.00")
    payment_undo(payment=payment, user=finance, comment="Bounced.")
    error = refused(
        lambda: payment_undo(payment=payment, user=finance, comment="Again."), "conflict"
    )
    assert error.message.startswith(f"Payment #{payment.pk} was already undone on ")
    assert state(sent) == ("sent", Decimal("0.00"))
    assert sent.actions.filter(action=Action.PAYMENT_UNDONE).count() == 1


def test_a_payment_of_another_bill_or_none_is_not_found(sent, bill_in, finance):
    payment = pay(sent, finance, "100.00")
    other = bill_in(Status.SENT)
    error = refused(
        lambda: payment_undo(payment=payment, user=finance, comment="x", bill=other.pk),
        "not_found",
    )
    assert error.message == f"There is no payment #{payment.pk} on bill #{other.pk}."
    refused(lambda: payment_undo(payment=424242, user=finance, comment="x"), "not_found")
    assert state(sent) == ("sent", Decimal("100.00"))


# --- void, and what the database keeps ----------------------------------------------------


def test_a_bill_with_payments_is_voided_only_once_they_are_undone(sent, finance):
    payment = pay(sent, finance, "100.00")
    error = refused(lambda: bill_void(bill=sent, user=finance, comment="Wrong."), "conflict")
    assert error.message == (
        f"Bill #{sent.pk} has payments of USD\xa0100.00 recorded: undo them before voiding it."
    )
    payment_undo(payment=payment, user=finance, comment="Refunded.")
    assert bill_void(bill=sent, user=finance, comment="Wrong.").status == Status.VOID


def test_a_paid_bill_cannot_be_voided(sent, finance):
    pay(sent, finance, "1250.00")
    error = refused(lambda: bill_void(bill=sent, user=finance, comment="Wrong."), "conflict")
    assert "undo them before voiding it" in error.message
    assert Bill.objects.get(pk=sent.pk).status == Status.PAID


def test_payments_are_never_deleted(sent, finance):
    payment = pay(sent, finance, "100.00")
    with pytest.raises(PermissionError):
        payment.delete()
    with pytest.raises(PermissionError):
        Payment.objects.all().delete()
    if connection.vendor == "postgresql":
        with (
            pytest.raises(DatabaseError, match="payments are kept"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM bills_payment WHERE id = %s", [payment.pk])
    assert Payment.objects.filter(pk=payment.pk).exists()


@pytest.mark.parametrize(
    "change",
    ["amount = 1", "reference = 'tampered'", "received_on = '2025-04-11'"],
)
def test_the_database_refuses_to_change_a_payment(sent, finance, change):
    payment = pay(sent, finance, "100.00")
    with (
        pytest.raises(DatabaseError, match="changes only once"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE bills_payment SET {change} WHERE id = %s", [payment.pk])  # noqa: S608
    payment.refresh_from_db()
    assert (payment.amount, payment.reference) == (Decimal("100.00"), "TR-1")


def test_the_database_refuses_to_change_an_undone_payment(sent, finance):
    payment = pay(sent, finance, "100.00")
    payment_undo(payment=payment, user=finance, comment="Bounced.")
    with (
        pytest.raises(DatabaseError, match="changes only once"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE bills_payment SET undo_comment = 'edited' WHERE id = %s", [payment.pk]
        )
