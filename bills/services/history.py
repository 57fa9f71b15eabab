"""Bill history (SPEC "Every create and update of a bill writes exactly one BillAction").

One way to write a row: a service describes the action as a typed `HistoryEntry`, hands it to
`bill_save` (the only way a service saves a bill), and the post-save signal (bills.signals)
turns it into the BillAction with `history_row`. Month-end generation writes its rows in bulk
through the same `history_row`. A bill saved without an entry is refused before the write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from billing_site.core.errors import DomainError
from billing_site.core.money import format_money, format_unit_cost, with_currency
from bills.models import Action, Bill, BillAction

# What a row's `changes` holds: field -> [before, after] for an update, or a short fact
# ({"approval": "csm"}, {"undone": "rejection"}, {"approvals_cleared": 2}). JSON values only.
ChangeValue = str | int | bool | None | list[str | int | bool | None]
Changes = dict[str, ChangeValue]

COMMENT_MAX_LENGTH = 2000

# The names the timeline gives the fields an update changes.
FIELD_LABELS = {
    "api_usage": "usage",
    "monthly_api_limit": "limit",
    "overage_units": "overage calls",
    "overage_unit_cost": "unit cost",
    "overage_amount": "amount",
    "requires_csm_approval": "needs CSM approval",
    "amount_paid": "paid",
}


@dataclass(frozen=True)
class HistoryEntry:
    """The BillAction a save writes: who did what, from which status, why, what changed."""

    stakeholder: User
    action: Action
    from_status: str = ""  # "" for a bill being created
    comment: str = ""
    changes: Changes = field(default_factory=dict)


def history_row(
    bill: Bill, entry: HistoryEntry, *, created: bool, at: datetime | None = None
) -> BillAction:
    """The (unsaved) BillAction for `entry` on `bill` as it now is: the one row builder. It
    copies the stakeholder's current name and role onto the row (SPEC "BillAction")."""
    row = BillAction(
        bill_id=bill.pk,
        stakeholder=entry.stakeholder,
        stakeholder_name=entry.stakeholder.name,
        stakeholder_role=entry.stakeholder.role,
        action=entry.action,
        comment=entry.comment,
        from_status="" if created else entry.from_status,
        to_status=bill.status,
        changes=normalise_changes(entry.changes),
    )
    if at is not None:
        row.created_at = at
    row.updated_at = row.created_at
    return row


def bill_save(*, bill: Bill, entry: HistoryEntry) -> Bill:
    """Save the bill and, through the post-save signal, exactly one history row for `entry`.
    A saved bill's `version` goes up by one (the caller holds its row lock)."""
    bill.updated_at = timezone.now()
    if bill.pk is not None:
        bill.version += 1
    bill.record_history(entry)
    bill.save()
    return bill


def bills_create(*, bills: list[Bill], entry: HistoryEntry) -> list[Bill]:
    """Insert new bills in bulk with one `entry` row each (what the signal would write for each
    bill.save(), as two set-based INSERTs). The bills come back with their ids."""
    if not bills:
        return []
    created = Bill.objects.bulk_create(bills)
    if any(b.pk is None for b in created):  # pragma: no cover - backends without RETURNING
        raise RuntimeError("bulk_create did not return primary keys")
    BillAction.objects.bulk_create(
        [history_row(b, entry, created=True, at=b.created_at) for b in created]
    )
    return created


def clean_comment(comment: str | None, *, required_to: str | None = None) -> str:
    """The comment as history keeps it: stripped text of at most 2000 characters.

    `required_to` finishes "A comment is required to ..." when a blank one is refused. Raises
    DomainError(kind="invalid") naming "comment": a NUL byte or a lone surrogate (which the
    pages pass on from whatever was posted) cannot be stored in a PostgreSQL text column.
    """
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        raise DomainError.invalid("Enter the comment as text.", "comment")
    comment = comment.strip()
    if required_to and not comment:
        raise DomainError.invalid(f"A comment is required to {required_to}.", "comment")
    if len(comment) > COMMENT_MAX_LENGTH:
        raise DomainError.invalid("Keep the comment under 2000 characters.", "comment")
    if "\x00" in comment:
        raise DomainError.invalid("The comment cannot contain null characters.", "comment")
    try:
        comment.encode("utf-8")
    except UnicodeEncodeError:
        raise DomainError.invalid("Enter the comment as valid Unicode text.", "comment") from None
    return comment


def jsonable(value: object) -> ChangeValue:
    """A column's value as `changes` stores it: Decimals as exact strings."""
    if isinstance(value, Decimal):
        return str(value)
    return value  # type: ignore[return-value]


# The decimal places `changes` keeps each money key with: as the bill (or payment) stores it.
DECIMAL_PLACES = {
    "overage_amount": Decimal("0.01"),
    "amount_paid": Decimal("0.01"),
    "payment_amount": Decimal("0.01"),
    "overage_unit_cost": Decimal("0.000001"),
}


def normalise_changes(changes: Changes) -> Changes:
    """`changes` as a history row stores it (SPEC "Values in history are normalised the way the
    bill stores them"): every money value, alone or in a [before, after] pair, becomes the
    canonical string of its column ("12.50", "0.002500"), never "-0.00" or "1.25E+1"; other
    values are kept. Any other Decimal becomes its plain string. Raises decimal.InvalidOperation
    for a money value that is not a number (a programming error, never user input)."""
    return {key: _normalise(key, value) for key, value in changes.items()}


def _normalise(key: str, value: object) -> ChangeValue:
    if isinstance(value, list | tuple):
        return [_normalise(key, v) for v in value]  # type: ignore[misc]
    places = DECIMAL_PLACES.get(key)
    if (
        places is not None
        and isinstance(value, Decimal | str | int)
        and not isinstance(value, bool)
    ):
        number = Decimal(str(value)).quantize(places)
        return f"{abs(number) if number == 0 else number:f}"
    if isinstance(value, Decimal):
        return f"{abs(value) if value == 0 else value:f}"
    return value  # type: ignore[return-value]


# Money in `changes`, shown as the pages show money: with the currency, thousands separated.
MONEY_FIELDS = {
    "overage_amount": format_money,
    "overage_unit_cost": format_unit_cost,
    "amount_paid": format_money,
}
# A payment's row (services.payments) keeps the payment itself; it reads as one sentence.
PAYMENT_KEYS = ("payment_id", "payment_amount", "received_on", "reference")


def describe_changes(changes: Changes | None, *, currency: str | None = None) -> list[str]:
    """A row's `changes` as short sentences for the timeline, e.g.
    "unit cost: USD 0.0025 → USD 0.002" (money in `currency`, else settings.CURRENCY)."""
    lines = []
    if changes and "payment_amount" in changes:  # the payment first, whatever the key order
        lines.append(_payment_line(changes, currency))
    for key, value in (changes or {}).items():
        if key == "approval":
            lines.append(f"{'CSM' if value == 'csm' else 'Sales'} approval")
        elif key == "undone":
            lines.append(f"Undid the {str(value).replace('csm', 'CSM').replace('sales', 'Sales')}")
        elif key == "reason":
            lines.append(f"Because the {value}")
        elif key == "suspicious_usage":
            lines.append(f"Approved although the usage looked suspicious: {value}")
        elif key in PAYMENT_KEYS:
            continue
        elif key == "approvals_cleared":
            counts = "counts" if value == 1 else "count"
            lines.append(f"{value} earlier approval{'s' * (value != 1)} no longer {counts}")
        elif isinstance(value, list | tuple) and len(value) == 2 and key in MONEY_FIELDS:
            before, after = (
                with_currency(MONEY_FIELDS[key](Decimal(str(v))), currency) for v in value
            )
            lines.append(f"{FIELD_LABELS[key]}: {before} → {after}")
        elif isinstance(value, list | tuple) and len(value) == 2:
            label = FIELD_LABELS.get(key, key.replace("_", " "))
            lines.append(f"{label}: {_plain(value[0])} → {_plain(value[1])}")
    return lines


def _payment_line(changes: Changes, currency: str | None) -> str:
    """The payment of a row, e.g. "Payment #7: USD 100.00 received 1 May 2026, reference TR-1"."""
    amount = with_currency(format_money(Decimal(str(changes["payment_amount"]))), currency)
    received = date.fromisoformat(str(changes.get("received_on")))
    return (
        f"Payment #{changes.get('payment_id')}: {amount} received "
        f"{received.day} {received:%b %Y}, reference {changes.get('reference')}"
    )


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
