"""Each approver's queue: the drafts that still need one user's approval (SPEC "Pages":
/dashboard opens on "waiting for me" with its count in the navigation; "JSON API":
GET /api/bills `awaiting=me`).

One SQL condition, `awaiting_q`, shared by the dashboard, GET /api/bills and its CSV (through
bills.filters.BillFilterSet), the navigation's count, GET /api/bills/awaiting and the digest
email (bills.services.digest): whoever asks, the same bills wait on the same person.

What waits on whom (SPEC "Approvals", and accounts.roles for who may decide):
- Sales: every draft without a Sales approval that still needs one: a two-approval bill
  (`requires_csm_approval`) until Sales approves it, a one-approval bill until anybody does.
- Customer Success: the same for the CSM approval, on the drafts of the customers they manage
  and of customers with no CSM (any Customer Success user stands in for a missing CSM).
- Never a bill whose other approval is the user's own (SPEC: two different people).
- Finance: nothing; no bill waits on Finance's approval (the bills waiting to be sent are the
  dashboard's "Approved" tile).
Drafts whose usage or terms changed since they were computed stay in the queue, flagged
"usage changed" or "terms changed" and without an Approve button, until Finance recomputes
them: they still need this person's approval, just not yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q
from django.urls import reverse

from accounts.roles import Perm, approval_slot, can
from bills.models import Bill, Status

if TYPE_CHECKING:
    from accounts.models import User

# The value of the `awaiting` filter that asks for the caller's queue.
AWAITING_ME = "me"
# The other approval of each slot: a one-approval bill needs neither once either is given.
_OTHER_SLOT = {"sales": "csm", "csm": "sales"}


def has_queue(user: User | None) -> bool:
    """Whether bills can wait on this user's approval: an active Sales or Customer Success
    user (accounts.roles: the roles that approve). Finance and anonymous visitors: False."""
    return can(user, Perm.APPROVE_BILL)


def slot_open_q(slot: str, prefix: str = "") -> Q:
    """Drafts whose `slot` approval ("sales" or "csm") is missing and still needed: both are
    needed when the bill requires CSM approval, else one from either side. `prefix` reaches
    bills through a relation, e.g. "bills__". Raises KeyError for another slot."""
    other = _OTHER_SLOT[slot]
    return Q(**{f"{prefix}status": Status.DRAFT, f"{prefix}{slot}_approved_by__isnull": True}) & (
        Q(**{f"{prefix}requires_csm_approval": True})
        | Q(**{f"{prefix}{other}_approved_by__isnull": True})
    )


def awaiting_q(user: User | None) -> Q:
    """The condition of the bills that wait on `user`'s approval (the module's rules), for a
    filter on Bill. A user with no queue gets a condition no bill meets (Django answers it
    without asking the database)."""
    if not has_queue(user):
        return Q(pk__in=[])
    slot = approval_slot(user)
    # Four eyes: a bill's two approvals come from two people, so a bill whose other approval
    # is this user's (given before a change of role) does not wait on them.
    condition = slot_open_q(slot) & ~Q(**{f"{_OTHER_SLOT[slot]}_approved_by": user.pk})
    if slot == "csm":
        condition &= Q(customer__csm_id=user.pk) | Q(customer__csm__isnull=True)
    return condition


def bill_awaiting_count(user: User | None) -> int:
    """How many bills wait on `user`'s approval (a whole number, 0 without a queue): one COUNT
    query, none for a user with no queue."""
    if not has_queue(user):
        return 0
    return Bill.objects.filter(awaiting_q(user)).count()


def queue_path() -> str:
    """The dashboard showing the caller's queue: "/dashboard?awaiting=me"."""
    return f"{reverse('bills:dashboard')}?awaiting={AWAITING_ME}"
