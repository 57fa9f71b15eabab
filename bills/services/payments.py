"""Finance records the money received against a sent invoice, and undoes a payment recorded by
mistake (SPEC "Bill lifecycle": payment recorded). A bill stays sent until its payments cover
the amount, then it is paid; undoing a payment of a paid bill makes it sent again.

Each locks the bill's row, keeps `Bill.amount_paid` equal to the payments that count, and writes
one history row whose `changes` carry the payment (id, amount, date received, reference) and the
amount paid before and after. Payments are never deleted: an undone one stays on record.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Perm, require
from billing_site.core import periods
from billing_site.core.decimals import DecimalTextError, parse_decimal_text
from billing_site.core.errors import DomainError
from billing_site.core.money import CENT, format_money, with_currency
from bills.models import Action, Bill, Payment, Status
from bills.models_payments import REFERENCE_MAX_LENGTH
from bills.services import lifecycle
from bills.services.history import HistoryEntry, bill_save, clean_comment

# The bill's amount column holds 27 integer digits; no payment can be larger than a bill.
MAX_PAYMENT = Decimal("1e27")


def parse_payment_amount(value: Decimal | str | int) -> Decimal:
    """An amount of money received: a Decimal > 0 with at most 2 decimal places ("125.50").

    Takes a decimal string, a Decimal or an int; a float or a bool is refused (a float cannot
    hold every amount exactly). Raises DomainError(kind="invalid") naming "amount".
    """
    if isinstance(value, float | bool) or not isinstance(value, Decimal | str | int):
        raise DomainError.invalid('Send the amount as a decimal string, e.g. "125.50".', "amount")
    try:
        # Digits and a dot only (core.decimals): Decimal would read "1e3" and "１２", and a
        # German "125,50" must be refused with what was typed, never guessed at.
        amount = (
            value
            if isinstance(value, Decimal)
            else parse_decimal_text(str(value).strip(), example="125.50")
        )
    except DecimalTextError as error:
        raise DomainError.invalid(error.message, "amount") from None
    if not amount.is_finite():
        raise DomainError.invalid("Enter a finite amount.", "amount")
    if amount <= 0:
        raise DomainError.invalid("Enter an amount above 0.00.", "amount")
    if amount >= MAX_PAYMENT:
        raise DomainError.invalid("The amount is too large.", "amount")
    if amount != amount.quantize(CENT):
        raise DomainError.invalid("Use at most 2 decimal places (cents).", "amount")
    return amount.quantize(CENT)


def parse_received_on(value: dt.date | str) -> dt.date:
    """The date the money was received: a date, or text as YYYY-MM-DD. Raises
    DomainError(kind="invalid") naming "date"."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise DomainError.invalid("Enter the date the money was received as YYYY-MM-DD.", "date")


def clean_reference(value: str | None) -> str:
    """The payer's reference (a bank transfer id, a cheque number): stripped text, required,
    at most 200 characters. Raises DomainError(kind="invalid") naming "reference"."""
    if value is not None and not isinstance(value, str):
        raise DomainError.invalid("Enter the reference as text.", "reference")
    reference = (value or "").strip()
    if not reference:
        raise DomainError.invalid(
            "Enter the payment's reference, e.g. the bank transfer id.", "reference"
        )
    if len(reference) > REFERENCE_MAX_LENGTH:
        raise DomainError.invalid(
            f"Keep the reference under {REFERENCE_MAX_LENGTH} characters.", "reference"
        )
    if "\x00" in reference:
        raise DomainError.invalid("The reference cannot contain null characters.", "reference")
    try:
        reference.encode("utf-8")
    except UnicodeEncodeError:
        message = "Enter the reference as valid Unicode text."
        raise DomainError.invalid(message, "reference") from None
    return reference


def _money(amount: Decimal, bill: Bill) -> str:
    return with_currency(format_money(amount), bill.currency)


def payment_record(
    *,
    bill: Bill | int,
    user: User,
    date: dt.date | str,
    amount: Decimal | str | int,
    reference: str,
    version: int | None = None,
) -> Payment:
    """Record `amount` (in the bill's currency) received on `date` with the payer's
    `reference` against a sent bill; the bill becomes paid once its payments cover its amount.

    The amount must be above 0.00 and at most the balance due: an overpayment is refused, so
    a bill never shows more paid than it charges (record the balance, and refund the rest
    outside the desk). The date may not be in the future (settings.TIME_ZONE) nor before the
    invoice was issued. Returns the Payment, its `bill` the bill as it now is.
    Raises DomainError: forbidden (not Finance); not_found; conflict (the bill is not sent: a
    draft, approved, rejected, paid or void one); invalid naming "amount", "date" or
    "reference".
    """
    require(user, Perm.RECORD_PAYMENT)
    received_on = parse_received_on(date)
    amount = parse_payment_amount(amount)
    reference = clean_reference(reference)
    with transaction.atomic():
        bill = lifecycle.bill_lock(bill=bill)
        lifecycle.check(bill, "record_payment", version=version)
        issued_on = bill.invoice.issued_on
        if received_on > periods.today():
            raise DomainError.invalid(
                "The date received cannot be in the future; record the payment once the money "
                "has arrived.",
                "date",
            )
        if received_on < issued_on:
            raise DomainError.invalid(
                f"The date received cannot be before the invoice was issued "
                f"({issued_on.isoformat()}).",
                "date",
            )
        balance = bill.overage_amount - bill.amount_paid
        if amount > balance:
            raise DomainError.invalid(
                f"{_money(amount, bill)} is more than the balance due ({_money(balance, bill)}): "
                "record at most the balance.",
                "amount",
            )
        payment = Payment.objects.create(
            bill=bill, received_on=received_on, amount=amount, reference=reference, recorded_by=user
        )
        before = bill.amount_paid
        bill.amount_paid = before + amount
        if bill.amount_paid >= bill.overage_amount:
            bill.status = Status.PAID
        entry = HistoryEntry(
            stakeholder=user,
            action=Action.PAYMENT_RECORDED,
            from_status=Status.SENT,
            changes={
                "payment_id": payment.pk,
                "payment_amount": str(amount),
                "received_on": received_on.isoformat(),
                "reference": reference,
                "amount_paid": [str(before), str(bill.amount_paid)],
            },
        )
        payment.bill = bill_save(bill=bill, entry=entry)
    return payment


def payment_undo(
    *,
    payment: Payment | int,
    user: User,
    comment: str,
    bill: Bill | int | None = None,
    version: int | None = None,
) -> Payment:
    """Undo a payment that counts: it stays on record (who undid it, when, and the required
    `comment` saying why) and no longer counts; a paid bill whose payments no longer cover its
    amount is sent again. With `bill`, the payment must be one of that bill's.

    Returns the Payment, its `bill` the bill as it now is.
    Raises DomainError: forbidden (not Finance); not_found (no such payment, or not of `bill`);
    conflict (the payment was already undone, or the bill is neither sent nor paid); invalid
    naming "comment".
    """
    require(user, Perm.RECORD_PAYMENT)
    comment = clean_comment(comment, required_to="undo a payment")
    payment_id = payment.pk if isinstance(payment, Payment) else payment
    bill_id = bill.pk if isinstance(bill, Bill) else bill
    with transaction.atomic():
        owner = Payment.objects.filter(pk=payment_id).values_list("bill_id", flat=True).first()
        if owner is None or (bill_id is not None and owner != bill_id):
            where = f" on bill #{bill_id}" if bill_id is not None else ""
            raise DomainError(f"There is no payment #{payment_id}{where}.", kind="not_found")
        locked = lifecycle.bill_lock(bill=owner)
        lifecycle.check_version(locked, version)
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if not payment.counts:
            raise DomainError.conflict(
                f"Payment #{payment.pk} was already undone on "
                f"{timezone.localtime(payment.undone_at):%Y-%m-%d %H:%M}."
            )
        lifecycle.check(locked, "undo_payment")
        payment.undone_at = timezone.now()
        payment.undone_by = user
        payment.undo_comment = comment
        payment.save(update_fields=["undone_at", "undone_by", "undo_comment"])
        from_status = locked.status
        before = locked.amount_paid
        locked.amount_paid = before - payment.amount
        if locked.amount_paid < locked.overage_amount:
            locked.status = Status.SENT
        entry = HistoryEntry(
            stakeholder=user,
            action=Action.PAYMENT_UNDONE,
            from_status=from_status,
            comment=comment,
            changes={
                "payment_id": payment.pk,
                "payment_amount": str(payment.amount),
                "received_on": payment.received_on.isoformat(),
                "reference": payment.reference,
                "amount_paid": [str(before), str(locked.amount_paid)],
            },
        )
        payment.bill = bill_save(bill=locked, entry=entry)
    return payment
