"""Who may do what: the one place the role rules of SPEC.md live.

Services, views, templates (to show buttons) and the API all ask these functions.
Status rules (may this bill be approved now?) live in bills.services; these answer only
"may this person do this kind of thing to this bill".
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from accounts.models import Role

if TYPE_CHECKING:
    from accounts.models import User
    from bills.models import Bill
    from customers.models import Customer


class Perm(StrEnum):
    RECORD_USAGE = "record_usage"
    CREATE_BILL = "create_bill"
    GENERATE_BILLS = "generate_bills"
    UPDATE_BILL = "update_bill"
    SEND_BILL = "send_bill"
    VOID_BILL = "void_bill"
    APPROVE_BILL = "approve_bill"
    REJECT_BILL = "reject_bill"
    REVERT_BILL = "revert_bill"


FINANCE_PERMS = frozenset(
    {
        Perm.RECORD_USAGE,
        Perm.CREATE_BILL,
        Perm.GENERATE_BILLS,
        Perm.UPDATE_BILL,
        Perm.SEND_BILL,
        Perm.VOID_BILL,
    }
)
DECISION_PERMS = frozenset({Perm.APPROVE_BILL, Perm.REJECT_BILL, Perm.REVERT_BILL})


def _active(user: User | None) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def is_csm_for(user: User | None, customer: Customer) -> bool:
    """The customer's CSM; for a customer with no CSM, any Customer Success user stands in."""
    if not _active(user) or user.role != Role.CUSTOMER_SUCCESS:
        return False
    return customer.csm_id is None or customer.csm_id == user.pk


def can_decide(user: User | None, customer: Customer) -> bool:
    """May approve, reject or revert decisions on this customer's bills."""
    if not _active(user):
        return False
    return user.role == Role.SALES or is_csm_for(user, customer)


def can(user: User | None, perm: Perm | str, bill: Bill | None = None) -> bool:
    """Whether the user's role allows `perm` (on `bill`, for the decisions)."""
    perm = Perm(perm)
    if not _active(user):
        return False
    if perm in FINANCE_PERMS:
        return user.role == Role.FINANCE
    if perm in DECISION_PERMS:
        if bill is None:
            return user.role in (Role.SALES, Role.CUSTOMER_SUCCESS)
        return can_decide(user, bill.customer)
    return False  # pragma: no cover - every Perm is handled above


def approval_slot(user: User) -> str | None:
    """Which of a bill's two approvals this user's approval fills: "csm" or "sales"."""
    if user.role == Role.SALES:
        return "sales"
    if user.role == Role.CUSTOMER_SUCCESS:
        return "csm"
    return None


def role_summary(role: str) -> str:
    return {
        Role.FINANCE: "records usage, generates, corrects, sends and voids bills",
        Role.CUSTOMER_SUCCESS: "approves, rejects and undoes decisions on their customers' bills",
        Role.SALES: "approves, rejects and undoes decisions on any bill",
    }.get(role, "")
