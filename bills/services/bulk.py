"""Bulk actions on bills, with a look before the leap (SPEC "Pages": the dashboard's "select
rows for bulk actions with a confirmation"; "JSON API": bulk approve, reject, send).

`bulk_preview` says, for each bill, whether the action will be taken or why it will be skipped,
asking the questions the single-bill services ask (accounts.roles, lifecycle.allows, the
approval slot, suspicious usage, the billing email), and adds up the money that will move.
`bulk_apply` then calls the single-bill service (bill_approve, bill_reject, bill_send) for each
bill the preview lets through, each in its own transaction: one bill's refusal undoes nothing of
the others, and every id gets its own outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

from accounts.models import User
from accounts.roles import approval_slot, can, refusal
from billing_site.core.errors import DomainError
from billing_site.core.money import PRECISION
from billing_site.core.numbers import MAX_INT64
from bills.models import Bill
from bills.selectors import bill_list
from bills.services import lifecycle
from bills.services.decisions import bill_approve, bill_reject
from bills.services.history import clean_comment
from bills.services.invoicing import bill_send, billing_email_problem
from usage.analysis import usage_anomalies

# The most ids one call takes (a bulk send renders each invoice's PDF in the worker).
MAX_BULK_IDS = 500
BULK_ACTIONS = ("approve", "reject", "send")

# Why a bill is skipped: short phrases a list can group by ("wrong status (sent)" is built).
NOT_FOUND = "not found"
NOT_YOURS = "not yours"
USAGE_CHANGED = "usage changed: recompute first"
TERMS_CHANGED = "terms changed: recompute first"
YOUR_APPROVAL_GIVEN = "your approval is already given"
SLOT_TAKEN = "its {slot} approval is already given by another user"
SUSPICIOUS = "suspicious usage: needs a comment, approve it on its own"
NO_EMAIL = "no valid billing email: correct the customer first"

READY, SKIPPED, FAILED = "ready", "skipped", "failed"


@dataclass(frozen=True)
class BulkItem:
    """One asked-for id: its bill (None when there is none) and why it will be skipped ("":
    the action will be taken)."""

    id: int
    bill: Bill | None
    reason: str = ""
    detail: str = ""  # the reason, or what will be done

    @property
    def ready(self) -> bool:
        return not self.reason

    @property
    def status(self) -> str | None:
        return self.bill.status if self.bill else None

    def as_dict(self) -> dict:
        """The preview's answer for this id: {id, outcome: "ready" or "skipped", status,
        detail}, shaped like an Outcome."""
        outcome = READY if self.ready else SKIPPED
        return {"id": self.id, "outcome": outcome, "status": self.status, "detail": self.detail}


def _will(action: str, bill: Bill) -> str:
    """What the action will do to a bill that is ready, in a sentence."""
    if action == "send":
        return f"Will be emailed to {bill.customer.billing_email}."
    if action == "reject":
        return "Will be rejected: the overage is written off."
    if bill.approvals_needed > 1:
        return (
            f"Your approval will be recorded; it will still need {bill.approvals_needed - 1} more."
        )
    return "Will be approved."


@dataclass(frozen=True)
class Total:
    """The bills of one currency that will be acted on: how many, and their exact sum."""

    currency: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class BulkPreview:
    """What `action` would do to each asked-for id, in the order asked (duplicates once)."""

    action: str
    items: list[BulkItem]

    @property
    def ready(self) -> list[BulkItem]:
        return [item for item in self.items if item.ready]

    @property
    def skipped(self) -> list[BulkItem]:
        return [item for item in self.items if not item.ready]

    @property
    def count(self) -> int:
        """How many bills will be acted on."""
        return len(self.ready)

    @property
    def totals(self) -> list[Total]:
        """The ready bills' amounts per currency (Decimal, exact), by currency code."""
        sums: dict[str, tuple[int, Decimal]] = {}
        with localcontext(prec=PRECISION):
            for item in self.ready:
                count, amount = sums.get(item.bill.currency, (0, Decimal("0.00")))
                sums[item.bill.currency] = (count + 1, amount + item.bill.overage_amount)
        return [Total(code, n, amount) for code, (n, amount) in sorted(sums.items())]


@dataclass(frozen=True)
class Outcome:
    """What happened to one id. `outcome` is the action done ("approved", "rejected", "sent"),
    "skipped" (the preview's checks said no: nothing was tried) or "failed" (the service
    refused it); `status` is the bill's status afterwards (None
    for an unknown id); `detail` says what happened in a sentence or the skip reason."""

    id: int
    outcome: str
    status: str | None
    detail: str

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "outcome": self.outcome,
            "status": self.status,
            "detail": self.detail,
        }


def _bulk_ids(bill_ids: Sequence[int]) -> list[int]:
    """The ids once each, in the order given. Raises DomainError(kind="invalid") naming "ids":
    none, more than MAX_BULK_IDS, or an id that is not a whole number from 1 to 2^63-1 (a bool,
    a float or a string is refused: callers parse text themselves)."""
    if isinstance(bill_ids, str | bytes) or not isinstance(bill_ids, Sequence):
        raise DomainError.invalid("Send the bill ids as a list.", "ids")
    if not bill_ids:
        raise DomainError.invalid("Choose at least one bill.", "ids")
    if len(bill_ids) > MAX_BULK_IDS:
        raise DomainError.invalid(
            f"At most {MAX_BULK_IDS} bills at a time; {len(bill_ids)} were given. "
            "Act on them in smaller groups.",
            "ids",
        )
    for pk in bill_ids:
        if isinstance(pk, bool) or not isinstance(pk, int) or not 1 <= pk <= MAX_INT64:
            raise DomainError.invalid(f"Each id is a whole number from 1 to {MAX_INT64}.", "ids")
    return list(dict.fromkeys(bill_ids))


def _transition(action: str) -> lifecycle.Transition:
    if action not in BULK_ACTIONS:
        raise DomainError.invalid(
            f"“{action}” is not a bulk action; use approve, reject or send.", "action"
        )
    return lifecycle.TRANSITIONS[action]


def bulk_preview(*, user: User, action: str, bill_ids: Sequence[int]) -> BulkPreview:
    """For each id, whether `action` ("approve", "reject" or "send") will be taken, or why it
    will be skipped (NOT_FOUND, NOT_YOURS, "wrong status (sent)", USAGE_CHANGED,
    TERMS_CHANGED, YOUR_APPROVAL_GIVEN, SLOT_TAKEN, SUSPICIOUS, NO_EMAIL); writes nothing.
    Two queries whatever the count: the bills (bills.selectors.bill_list) and, for approve,
    their months' usage history.

    Raises DomainError: forbidden when the user's role may not take the action on any bill
    (Finance approving, Sales sending); invalid naming "action" or "ids" (see _bulk_ids).
    """
    transition = _transition(action)
    if not can(user, transition.perm):
        raise DomainError.forbidden(refusal(user, transition.perm))
    ids = _bulk_ids(bill_ids)
    bills = {bill.pk: bill for bill in bill_list().filter(pk__in=ids)}
    reasons = {pk: _reason(user, action, bills.get(pk)) for pk in ids}
    if action == "approve":
        # A suspicious month is approved only with a reason (decisions.bill_approve); one
        # comment for many bills is not a reason given for each, so these go one by one.
        ready = [bills[pk] for pk in ids if not reasons[pk]]
        flags = usage_anomalies(keys=[(b.customer_id, b.year, b.month) for b in ready])
        for bill in ready:
            if (bill.customer_id, bill.year, bill.month) in flags:
                reasons[bill.pk] = SUSPICIOUS
    items = [
        BulkItem(pk, bills.get(pk), reasons[pk], reasons[pk] or _will(action, bills[pk]))
        for pk in ids
    ]
    return BulkPreview(action, items)


def _reason(user: User, action: str, bill: Bill | None) -> str:
    """Why this bill will be skipped, in the order the single-bill service asks; "" if not."""
    if bill is None:
        return NOT_FOUND
    transition = lifecycle.TRANSITIONS[action]
    if not can(user, transition.perm, bill):
        return NOT_YOURS
    if not lifecycle.allows(bill, action):
        if bill.status in transition.from_statuses and bill.inputs_changed:
            return USAGE_CHANGED if bill.usage_changed else TERMS_CHANGED
        return f"wrong status ({bill.status})"
    if action == "approve":
        slot = approval_slot(user)
        other = "sales" if slot == "csm" else "csm"
        holder = getattr(bill, f"{slot}_approved_by_id")
        # Four eyes (decisions.bill_approve): the two approvals come from two people, so an
        # approval the user gave in the other slot (under another role) counts as theirs.
        if user.pk in (holder, getattr(bill, f"{other}_approved_by_id")):
            return YOUR_APPROVAL_GIVEN
        if holder is not None:
            return SLOT_TAKEN.format(slot="CSM" if slot == "csm" else "Sales")
    if action == "send" and billing_email_problem(bill.customer.billing_email):
        return NO_EMAIL
    return ""


def bulk_apply(
    *,
    user: User,
    action: str,
    bill_ids: Sequence[int],
    comment: str = "",
    versions: Mapping[int, int | None] | None = None,
    counted: Callable[[int, int], None] | None = None,
) -> list[Outcome]:
    """Take `action` on every bill bulk_preview lets through, by the single-bill service
    (bill_approve with `comment`, bill_reject with `comment`, bill_send), each in its own
    transaction; one Outcome per distinct id, in the order asked. Must run outside any atomic
    block (bill_send is durable: what it reports is what committed).

    `comment` is optional for approve, required for reject (one for every bill), refused for
    send. Raises, before anything is written, DomainError: forbidden (see bulk_preview);
    invalid naming "ids", "action" or "comment". A bill the service refuses afterwards (it
    changed since the preview) is an Outcome "failed", never an exception.
    `versions`: the version of each bill the confirmation showed (id -> version); a bill that
    changed since fails with the services' 409 message (SPEC "Bill lifecycle").
    `counted` hears (done, total) after each bill (a bulk send's job shows it).
    """
    transition = _transition(action)
    if action == "reject":
        comment = clean_comment(comment, required_to="reject bills")
    elif action == "approve":
        comment = clean_comment(comment)
    elif comment:
        raise DomainError.invalid("Sending takes no comment.", "comment")
    preview = bulk_preview(user=user, action=action, bill_ids=bill_ids)
    outcomes: list[Outcome] = []
    for item in preview.items:
        if counted and outcomes:
            counted(len(outcomes), len(preview.items))
        if not item.ready:
            outcomes.append(Outcome(item.id, SKIPPED, item.status, item.reason))
            continue
        try:
            version = (versions or {}).get(item.id)
            bill = _take(action, bill=item.id, user=user, comment=comment, version=version)
        except DomainError as error:
            outcomes.append(Outcome(item.id, FAILED, None, error.message))
            continue
        outcomes.append(Outcome(item.id, transition.done, bill.status, _done(action, bill)))
    return _with_statuses(outcomes)


def _take(action: str, *, bill: int, user: User, comment: str, version: int | None) -> Bill:
    if action == "approve":
        return bill_approve(bill=bill, user=user, comment=comment, version=version)
    if action == "reject":
        return bill_reject(bill=bill, user=user, comment=comment, version=version)
    return bill_send(bill=bill, user=user, version=version)


def _done(action: str, bill: Bill) -> str:
    if action == "send":
        return f"Sent; its invoice email to {bill.customer.billing_email} is queued."
    if action == "reject":
        return "Rejected: the overage is written off."
    if bill.approvals_needed:
        return f"Your approval is recorded; it still needs {bill.approvals_needed} more."
    return "Approved: it waits for Finance to send it."


def _with_statuses(outcomes: list[Outcome]) -> list[Outcome]:
    # A failed bill's status is read afterwards (a failed send may have moved nothing, or
    # recorded send_failed): one query for all of them.
    failed = [o.id for o in outcomes if o.outcome == FAILED]
    if not failed:
        return outcomes
    now = dict(Bill.objects.filter(pk__in=failed).values_list("pk", "status"))
    return [
        Outcome(o.id, o.outcome, now.get(o.id), o.detail) if o.outcome == FAILED else o
        for o in outcomes
    ]


def bulk_counts(*, action: str, outcomes: Sequence[Outcome]) -> dict[str, int]:
    """{done word: n, "skipped": n, "failed": n}, every key present: {"sent": 3, "skipped": 1,
    "failed": 0}."""
    counts = {_transition(action).done: 0, SKIPPED: 0, FAILED: 0}
    for outcome in outcomes:
        counts[outcome.outcome] += 1
    return counts
