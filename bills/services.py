"""Every write to a bill. The HTML views and the JSON API call these and decide nothing themselves.

Each service checks the role (accounts.roles), then the bill's status under a row lock, and is
atomic. The post-save signal (bills.signals) turns the `HistoryEntry` a service attaches to the
bill into exactly one BillAction row.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, FilteredRelation, Q
from django.utils import timezone

from accounts.models import User
from accounts.roles import Perm, approval_slot, can
from billing_site.errors import DomainError
from bills import periods
from bills.models import Action, Bill, BillAction, Status
from customers.models import Customer
from usage.models import Usage

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
UNIT_COST_PLACES = Decimal("0.000001")
# The column holds 14 digits, 6 of them decimals.
MAX_UNIT_COST = Decimal("1e8")
# 64-bit usage times a 14-digit price needs ~33 significant digits; the default context has 28.
MONEY_PRECISION = 60
# Namespace for PostgreSQL advisory locks that serialize bill creation per month.
_PERIOD_LOCK_NAMESPACE = 7_461_001


@dataclass
class HistoryEntry:
    """What the post-save signal writes as the bill's next BillAction."""

    stakeholder: User
    action: str
    from_status: str = ""
    comment: str = ""
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass
class GenerationResult:
    created: int
    skipped: int
    skipped_reasons: dict[str, int]
    bill_ids: list[int]


# --- money ---------------------------------------------------------------------------------


def overage_units_for(api_usage: int, monthly_api_limit: int) -> int:
    return max(0, int(api_usage) - int(monthly_api_limit))


def overage_exact_amount(units: int, unit_cost: Decimal) -> Decimal:
    """units x unit cost before rounding, exactly (what the bill page shows before rounding)."""
    with localcontext(prec=MONEY_PRECISION):
        return Decimal(int(units)) * Decimal(unit_cost)


def overage_amount_for(units: int, unit_cost: Decimal) -> Decimal:
    """units x unit cost, rounded half-up to cents, exactly."""
    with localcontext(prec=MONEY_PRECISION):
        return overage_exact_amount(units, unit_cost).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_unit_cost(value: Any, *, field_name: str = "overage_unit_cost") -> Decimal:
    """A price per call: a Decimal >= 0 with at most 6 decimal places (never a float)."""
    if isinstance(value, float | bool):
        raise DomainError.invalid(
            'Send the unit cost as a decimal string, e.g. "0.0025".', field_name
        )
    try:
        cost = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise DomainError.invalid("Enter a number, e.g. 0.0025.", field_name) from None
    if not cost.is_finite():
        raise DomainError.invalid("Enter a finite number.", field_name)
    if cost < 0:
        raise DomainError.invalid("The unit cost cannot be negative.", field_name)
    # Size before places: quantizing "1e30" to 6 places needs more digits than the decimal
    # context has, and raises InvalidOperation (a 500) instead of answering.
    if cost >= MAX_UNIT_COST:
        raise DomainError.invalid("The unit cost is too large.", field_name)
    if cost != cost.quantize(UNIT_COST_PLACES, rounding=ROUND_HALF_UP):
        raise DomainError.invalid("Use at most 6 decimal places.", field_name)
    return cost.quantize(UNIT_COST_PLACES)


# --- helpers -------------------------------------------------------------------------------


def _require(user: User, perm: Perm, bill: Bill | None = None, *, what: str) -> None:
    if not can(user, perm, bill):
        raise DomainError.forbidden(f"Your role ({getattr(user, 'role', 'none')}) may not {what}.")


def _clean_comment(comment: Any, *, required_to: str | None = None) -> str:
    """The comment as history keeps it: stripped text of at most 2000 characters.

    The pages hand over whatever was posted: a NUL byte ("%00" in a form) or a lone surrogate
    cannot be stored in a PostgreSQL text column and would fail the write with a 500.
    """
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        raise DomainError.invalid("Enter the comment as text.", "comment")
    comment = comment.strip()
    if required_to and not comment:
        raise DomainError.invalid(f"A comment is required to {required_to}.", "comment")
    if len(comment) > 2000:
        raise DomainError.invalid("Keep the comment under 2000 characters.", "comment")
    if "\x00" in comment:
        raise DomainError.invalid("The comment cannot contain null characters.", "comment")
    try:
        comment.encode("utf-8")
    except UnicodeEncodeError:
        raise DomainError.invalid("Enter the comment as valid Unicode text.", "comment") from None
    return comment


def _require_comment(comment: Any, why: str) -> str:
    return _clean_comment(comment, required_to=why)


def _whole_number(value: Any) -> int | None:
    # Checked before int(): int(True) is 1 (January) and int(2024.7) is 2024.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def _check_period(year: Any, month: Any) -> tuple[int, int]:
    errors: dict[str, list[str]] = {}
    year = _whole_number(year)
    if year is None or not periods.MIN_YEAR <= year <= periods.MAX_YEAR:
        errors["year"] = [f"Enter a year between {periods.MIN_YEAR} and {periods.MAX_YEAR}."]
    month = _whole_number(month)
    if month is None or not 1 <= month <= 12:
        errors["month"] = ["Enter a month from 1 to 12."]
    if errors:
        raise DomainError("Check the period.", kind="invalid", errors=errors)
    if not periods.has_ended(year, month):
        raise DomainError.invalid(
            f"{periods.label(year, month)} has not ended yet; bill it once the month is over.",
            "month",
        )
    return year, month


def _lock_period(year: int, month: int) -> None:
    """Serialize every bill creation for one month (PostgreSQL); SQLite serializes all writes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [_PERIOD_LOCK_NAMESPACE, year * 100 + month]
            )


def _locked(bill: Bill | int) -> Bill:
    """The bill's row, locked until the transaction ends, so racing decisions queue up."""
    pk = bill.pk if isinstance(bill, Bill) else bill
    try:
        return Bill.objects.select_for_update(of=("self",)).select_related("customer").get(pk=pk)
    except Bill.DoesNotExist:
        raise DomainError(f"Bill #{pk} does not exist.", kind="not_found") from None


# SPEC "Bill lifecycle": the statuses each action starts from. Revert also needs a decision to
# undo (see `_status_allows`). Services and the buttons the pages show both read this table.
FROM_STATUSES: dict[str, tuple[str, ...]] = {
    "approve": (Status.DRAFT,),
    "reject": (Status.DRAFT,),
    "revert": (Status.APPROVED, Status.REJECTED, Status.DRAFT),
    "update": (Status.DRAFT, Status.REJECTED),
    "send": (Status.APPROVED,),
    "void": (Status.SENT,),
}
PERM_FOR = {
    "approve": Perm.APPROVE_BILL,
    "reject": Perm.REJECT_BILL,
    "revert": Perm.REVERT_BILL,
    "update": Perm.UPDATE_BILL,
    "send": Perm.SEND_BILL,
    "void": Perm.VOID_BILL,
}
_DOING = {
    "approve": "approved",
    "reject": "rejected",
    "revert": "reverted",
    "update": "corrected",
    "send": "sent",
    "void": "voided",
}


def _status_allows(bill: Bill, action: str) -> bool:
    if bill.status not in FROM_STATUSES[action]:
        return False
    if action == "revert" and bill.status == Status.DRAFT:
        return bill.approvals_given > 0  # only a partial approval can be undone on a draft
    return True


def _check_status(bill: Bill, action: str) -> None:
    if _status_allows(bill, action):
        return
    if action == "revert" and bill.status == Status.DRAFT:
        raise DomainError.conflict(f"Bill #{bill.pk} is a draft with no decision to undo.")
    allowed = " or ".join(FROM_STATUSES[action])
    if action == "revert":
        allowed = "approved, rejected or partly approved"
    raise DomainError.conflict(
        f"Bill #{bill.pk} is {bill.status}; only {allowed} bills can be {_DOING[action]}."
    )


def bill_available_actions(*, bill: Bill, user: User) -> frozenset[str]:
    """What this user may do to this bill now: the role and the status, as the services decide.

    Approve also needs the user's approval slot to be free (a second Sales approval is a 409).
    """
    actions = set()
    for action, perm in PERM_FOR.items():
        if not _status_allows(bill, action) or not can(user, perm, bill):
            continue
        if action == "approve":
            slot = approval_slot(user)
            if slot is None or getattr(bill, f"{slot}_approved_by_id") is not None:
                continue
        actions.add(action)
    return frozenset(actions)


def _save(bill: Bill, entry: HistoryEntry) -> Bill:
    bill.updated_at = timezone.now()
    bill._history = entry
    bill.save()
    return bill


def _usage_for(customer: Customer, year: int, month: int) -> int:
    row = (
        Usage.objects.filter(customer=customer, year=year, month=month)
        .values_list("api_usage", flat=True)
        .first()
    )
    return int(row or 0)


# --- create and generate -------------------------------------------------------------------


def bill_create(*, customer: Customer, year: Any, month: Any, user: User) -> Bill:
    """Bill one customer-month. 400 when there is nothing to bill, 409 when it is billed."""
    _require(user, Perm.CREATE_BILL, what="create bills")
    year, month = _check_period(year, month)
    if not periods.contract_covers(customer.start_date, customer.end_date, year, month):
        raise DomainError.invalid(
            f"{customer.name} is not under contract in {periods.label(year, month)}.", "month"
        )
    try:
        with transaction.atomic():
            _lock_period(year, month)
            existing = (
                Bill.objects.filter(customer=customer, year=year, month=month)
                .exclude(status=Status.VOID)
                .first()
            )
            if existing:
                raise DomainError.conflict(
                    f"{customer.name} already has bill #{existing.pk} ({existing.status}) for "
                    f"{periods.label(year, month)}; void it before billing the month again."
                )
            # A billed month is a 409 whatever its usage says now (recompute that bill instead);
            # the usage is read under the month's lock, as generation reads it.
            api_usage = _usage_for(customer, year, month)
            units = overage_units_for(api_usage, customer.monthly_api_limit)
            if units == 0:
                raise DomainError.invalid(
                    f"No overage: {customer.name} used {api_usage:,} of "
                    f"{customer.monthly_api_limit:,} API calls in {periods.label(year, month)}, "
                    "so there is nothing to bill.",
                    "customer_id",
                )
            bill = Bill(
                customer=customer,
                year=year,
                month=month,
                api_usage=api_usage,
                monthly_api_limit=customer.monthly_api_limit,
                overage_units=units,
                overage_unit_cost=customer.overage_unit_cost,
                overage_amount=overage_amount_for(units, customer.overage_unit_cost),
                requires_csm_approval=customer.require_csm_approval,
                status=Status.DRAFT,
            )
            return _save(bill, HistoryEntry(stakeholder=user, action=Action.CREATED))
    except IntegrityError:
        # The partial unique constraint decided a race we did not see coming.
        raise DomainError.conflict(
            f"{customer.name} was billed for {periods.label(year, month)} at the same moment."
        ) from None


def bill_generate(
    *,
    year: Any,
    month: Any,
    user: User,
    progress: Callable[[str], None] | None = None,
) -> GenerationResult:
    """Bill every customer with overage in a month, in bulk and in one transaction.

    Idempotent: customers already billed (by a non-void bill) are skipped. Runs a fixed number of
    queries whatever the customer count: one read, one insert of bills, one insert of history.
    `progress` hears about each phase (reading, writing); nothing is committed until it returns.
    """
    report = progress or (lambda message: None)
    _require(user, Perm.GENERATE_BILLS, what="generate bills")
    year, month = _check_period(year, month)
    reasons: Counter[str] = Counter()
    try:
        with transaction.atomic():
            _lock_period(year, month)
            report(f"Reading customers and their usage for {periods.label(year, month)}...")
            rows = _generation_rows(year, month)
            now = timezone.now()
            new_bills = []
            # Not .iterator(): a server-side cursor makes PostgreSQL plan for the first rows
            # (cursor_tuple_fraction) and pick nested loops, 100x slower for the whole month.
            for row in rows:
                if not periods.contract_covers(row["start_date"], row["end_date"], year, month):
                    reasons["not under contract"] += 1
                    continue
                if row["billed_id"] is not None:
                    reasons["already billed"] += 1
                    continue
                api_usage = int(row["usage"] or 0)
                units = overage_units_for(api_usage, row["monthly_api_limit"])
                if units == 0:
                    reasons["no overage"] += 1
                    continue
                new_bills.append(
                    Bill(
                        customer_id=row["id"],
                        year=year,
                        month=month,
                        api_usage=api_usage,
                        monthly_api_limit=row["monthly_api_limit"],
                        overage_units=units,
                        overage_unit_cost=row["overage_unit_cost"],
                        overage_amount=overage_amount_for(units, row["overage_unit_cost"]),
                        requires_csm_approval=row["require_csm_approval"],
                        status=Status.DRAFT,
                        created_at=now,
                        updated_at=now,
                    )
                )
            report(
                f"Read {len(new_bills) + sum(reasons.values()):,} customers; "
                f"writing {len(new_bills):,} bills and their history..."
            )
            created = _bulk_create_bills(new_bills, user=user, now=now)
    except IntegrityError:
        raise DomainError.conflict(
            f"Bills for {periods.label(year, month)} were being created at the same moment; "
            "run the generation again (it skips what is already billed)."
        ) from None
    return GenerationResult(
        created=len(created),
        skipped=sum(reasons.values()),
        skipped_reasons=dict(reasons),
        bill_ids=[b.pk for b in created],
    )


def _generation_rows(year: int, month: int):
    """Every customer with its month's usage and live bill, as LEFT JOINs (each at most one row:
    both are unique per customer-month). Correlated subqueries here let a planner with stale
    statistics (right after a bulk usage import) rescan the usage index once per customer."""
    return (
        Customer.objects.annotate(
            month_usage=FilteredRelation(
                "usage_records",
                condition=Q(usage_records__year=year, usage_records__month=month),
            ),
            live_bill=FilteredRelation(
                "bills",
                condition=Q(bills__year=year, bills__month=month) & ~Q(bills__status=Status.VOID),
            ),
        )
        .values(
            "id",
            "start_date",
            "end_date",
            "monthly_api_limit",
            "overage_unit_cost",
            "require_csm_approval",
            usage=F("month_usage__api_usage"),
            billed_id=F("live_bill__id"),
        )
        .order_by()
    )


def _bulk_create_bills(bills: list[Bill], *, user: User, now) -> list[Bill]:
    """Bulk insert, then the same "created" history rows the signal would write, in bulk."""
    if not bills:
        return []
    created = Bill.objects.bulk_create(bills)
    if any(b.pk is None for b in created):  # pragma: no cover - backends without RETURNING
        raise RuntimeError("bulk_create did not return primary keys")
    BillAction.objects.bulk_create(
        [
            BillAction(
                bill_id=b.pk,
                stakeholder=user,
                action=Action.CREATED,
                from_status="",
                to_status=Status.DRAFT,
                created_at=now,
            )
            for b in created
        ]
    )
    return created


# --- decisions -----------------------------------------------------------------------------


def bill_approve(*, bill: Bill | int, user: User, comment: str = "") -> Bill:
    comment = _clean_comment(comment)
    with transaction.atomic():
        bill = _locked(bill)
        _require(user, Perm.APPROVE_BILL, bill, what=f"approve bills of {bill.customer.name}")
        _check_status(bill, "approve")
        slot = approval_slot(user)
        holder_id = getattr(bill, f"{slot}_approved_by_id")
        if holder_id is not None:
            who = "you" if holder_id == user.pk else "another user"
            label = "CSM" if slot == "csm" else "Sales"
            raise DomainError.conflict(
                f"Bill #{bill.pk} already has its {label} approval (from {who}); "
                "it needs the other approval now."
            )
        setattr(bill, f"{slot}_approved_by", user)
        setattr(bill, f"{slot}_approved_at", timezone.now())
        complete = (
            bill.approvals_given >= 2 if bill.requires_csm_approval else bill.approvals_given >= 1
        )
        if complete:
            bill.status = Status.APPROVED
        return _save(
            bill,
            HistoryEntry(
                stakeholder=user,
                action=Action.APPROVED,
                from_status=Status.DRAFT,
                comment=comment,
                changes={"approval": slot},
            ),
        )


def bill_reject(*, bill: Bill | int, user: User, comment: str) -> Bill:
    comment = _require_comment(comment, "reject a bill")
    with transaction.atomic():
        bill = _locked(bill)
        _require(user, Perm.REJECT_BILL, bill, what=f"reject bills of {bill.customer.name}")
        _check_status(bill, "reject")
        bill.status = Status.REJECTED
        return _save(
            bill,
            HistoryEntry(
                stakeholder=user, action=Action.REJECTED, from_status=Status.DRAFT, comment=comment
            ),
        )


def bill_revert(*, bill: Bill | int, user: User, comment: str) -> Bill:
    """Undo the latest decision: a rejection, the approval that completed the bill, or a
    partial approval. The bill returns to draft and the undone decision no longer counts."""
    comment = _require_comment(comment, "undo a decision")
    with transaction.atomic():
        bill = _locked(bill)
        _require(
            user, Perm.REVERT_BILL, bill, what=f"undo decisions on bills of {bill.customer.name}"
        )
        _check_status(bill, "revert")
        from_status = bill.status
        changes: dict[str, Any] = {}
        if bill.status == Status.REJECTED:
            changes["undone"] = "rejection"
        else:  # approved, or a draft with a partial approval
            slot = _latest_approval_slot(bill)
            changes["undone"] = f"{slot} approval"
            setattr(bill, f"{slot}_approved_by", None)
            setattr(bill, f"{slot}_approved_at", None)
        bill.status = Status.DRAFT
        return _save(
            bill,
            HistoryEntry(
                stakeholder=user,
                action=Action.REVERTED,
                from_status=from_status,
                comment=comment,
                changes=changes,
            ),
        )


def _latest_approval_slot(bill: Bill) -> str:
    given = [
        (getattr(bill, f"{slot}_approved_at"), slot)
        for slot in ("csm", "sales")
        if getattr(bill, f"{slot}_approved_by_id") is not None
    ]
    return max(given, key=lambda pair: pair[0] or timezone.now())[1]


# --- corrections, sending, voiding ---------------------------------------------------------

TRACKED_FIELDS = (
    "api_usage",
    "monthly_api_limit",
    "overage_units",
    "overage_unit_cost",
    "overage_amount",
    "requires_csm_approval",
)


def bill_update(
    *, bill: Bill | int, user: User, comment: str, overage_unit_cost: Any = None
) -> Bill:
    """Recompute a draft or rejected bill from current usage and terms, or reprice it.

    The bill returns to draft and earlier approvals stop counting.
    """
    comment = _require_comment(comment, "correct a bill")
    new_cost = None if overage_unit_cost in (None, "") else parse_unit_cost(overage_unit_cost)
    with transaction.atomic():
        bill = _locked(bill)
        _require(user, Perm.UPDATE_BILL, bill, what="correct bills")
        _check_status(bill, "update")
        customer = bill.customer
        before = {name: getattr(bill, name) for name in TRACKED_FIELDS}
        api_usage = _usage_for(customer, bill.year, bill.month)
        units = overage_units_for(api_usage, customer.monthly_api_limit)
        if units == 0:
            raise DomainError.invalid(
                f"With current usage ({api_usage:,}) and limit ({customer.monthly_api_limit:,}) "
                f"there is no overage for {periods.label(bill.year, bill.month)}: nothing to bill. "
                "Ask Sales or the CSM to reject the bill instead.",
                "comment",
            )
        cost = new_cost if new_cost is not None else customer.overage_unit_cost
        bill.api_usage = api_usage
        bill.monthly_api_limit = customer.monthly_api_limit
        bill.overage_units = units
        bill.overage_unit_cost = cost
        bill.overage_amount = overage_amount_for(units, cost)
        bill.requires_csm_approval = customer.require_csm_approval
        changes = {
            name: [_jsonable(before[name]), _jsonable(getattr(bill, name))]
            for name in TRACKED_FIELDS
            if before[name] != getattr(bill, name)
        }
        if bill.approvals_given:
            changes["approvals_cleared"] = bill.approvals_given
        from_status = bill.status
        bill.status = Status.DRAFT
        for slot in ("csm", "sales"):
            setattr(bill, f"{slot}_approved_by", None)
            setattr(bill, f"{slot}_approved_at", None)
        return _save(
            bill,
            HistoryEntry(
                stakeholder=user,
                action=Action.UPDATED,
                from_status=from_status,
                comment=comment,
                changes=changes,
            ),
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value


def bill_send(*, bill: Bill | int, user: User) -> Bill:
    """Mark an approved bill sent, then email the invoice once that has committed.

    If the mail fails, a second transaction puts the bill back to approved with a "send_failed"
    history row naming the error, and a delivery error is raised: the send is never lost.
    Both transactions are durable: called inside a caller's atomic block, the mail could go out
    for a "sent" that the caller then rolls back, so that raises RuntimeError instead.
    """
    from bills.invoices import invoice_deliver

    # The lock is held only while the status changes, never while talking to the mail server.
    with transaction.atomic(durable=True):
        bill = _locked(bill)
        _require(user, Perm.SEND_BILL, bill, what="send bills")
        _check_status(bill, "send")
        bill.status = Status.SENT
        _save(bill, HistoryEntry(stakeholder=user, action=Action.SENT, from_status=Status.APPROVED))
    try:
        invoice_deliver(bill=bill)
    except Exception as exc:
        logger.exception("Invoice email for bill %s failed", bill.pk)
        reason = f"{type(exc).__name__}: {exc}"[:500]
        with transaction.atomic(durable=True):
            bill = _locked(bill)
            if bill.status == Status.SENT:
                bill.status = Status.APPROVED
                _save(
                    bill,
                    HistoryEntry(
                        stakeholder=user,
                        action=Action.SEND_FAILED,
                        from_status=Status.SENT,
                        comment=f"The invoice email could not be delivered: {reason}",
                    ),
                )
        raise DomainError(
            f"The invoice for bill #{bill.pk} could not be emailed to "
            f"{bill.customer.billing_email} ({reason}). The bill is still approved; "
            "send it again once mail works.",
            kind="delivery",
        ) from exc
    return bill


def bill_void(*, bill: Bill | int, user: User, comment: str) -> Bill:
    comment = _require_comment(comment, "void a bill")
    with transaction.atomic():
        bill = _locked(bill)
        _require(user, Perm.VOID_BILL, bill, what="void bills")
        _check_status(bill, "void")
        bill.status = Status.VOID
        return _save(
            bill,
            HistoryEntry(
                stakeholder=user, action=Action.VOIDED, from_status=Status.SENT, comment=comment
            ),
        )
