"""Who may do what: the one place the role rules of the SPEC ("Roles", "Approvals") live.

Services, views, templates (to show buttons) and the API all ask these functions. Status rules
(may this bill be approved now?) live in the bills lifecycle (bills/services/lifecycle.py);
these answer only "may this person do this kind of thing to this customer's bills".
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from accounts.models import Role
from billing_site.core.errors import DomainError

if TYPE_CHECKING:
    from accounts.models import User


class HasCsm(Protocol):
    """A customer as the role rules see it: who its CSM is (None: it has none)."""

    csm_id: int | None
    name: str


class OfCustomer(Protocol):
    """A bill as the role rules see it: whose bill it is."""

    customer: HasCsm


class Perm(StrEnum):
    RECORD_USAGE = "record_usage"
    CREATE_BILL = "create_bill"
    GENERATE_BILLS = "generate_bills"
    UPDATE_BILL = "update_bill"
    SEND_BILL = "send_bill"
    VOID_BILL = "void_bill"
    RECORD_PAYMENT = "record_payment"
    APPROVE_BILL = "approve_bill"
    REJECT_BILL = "reject_bill"
    REVERT_BILL = "revert_bill"


# What a refusal says: "Your role (Sales) may not <phrase>."
PERM_PHRASES: dict[Perm, str] = {
    Perm.RECORD_USAGE: "record usage",
    Perm.CREATE_BILL: "create bills",
    Perm.GENERATE_BILLS: "generate bills",
    Perm.UPDATE_BILL: "update bills",
    Perm.SEND_BILL: "send bills",
    Perm.VOID_BILL: "void bills",
    Perm.RECORD_PAYMENT: "record or undo payments",
    Perm.APPROVE_BILL: "approve bills",
    Perm.REJECT_BILL: "reject bills",
    Perm.REVERT_BILL: "undo decisions on bills",
}

FINANCE_PERMS = frozenset(
    {
        Perm.RECORD_USAGE,
        Perm.CREATE_BILL,
        Perm.GENERATE_BILLS,
        Perm.UPDATE_BILL,
        Perm.SEND_BILL,
        Perm.VOID_BILL,
        Perm.RECORD_PAYMENT,
    }
)
DECISION_PERMS = frozenset({Perm.APPROVE_BILL, Perm.REJECT_BILL, Perm.REVERT_BILL})


def _active(user: User | None) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def is_csm_for(user: User | None, customer: HasCsm) -> bool:
    """The customer's CSM; for a customer with no CSM, any Customer Success user stands in.

    SPEC "Approvals": "A customer with no CSM: a Customer Success user may act on its bills".
    """
    if not _active(user) or user.role != Role.CUSTOMER_SUCCESS:
        return False
    return customer.csm_id is None or customer.csm_id == user.pk


def can_decide(user: User | None, customer: HasCsm) -> bool:
    """May approve, reject or revert decisions on this customer's bills (SPEC "Roles")."""
    if not _active(user):
        return False
    return user.role == Role.SALES or is_csm_for(user, customer)


def can(user: User | None, perm: Perm | str, bill: OfCustomer | None = None) -> bool:
    """Whether the user's role allows `perm`; for the decisions, on `bill`'s customer.

    Without a bill, a decision perm answers "may this role decide on some bills at all".
    Raises ValueError for a string that is not a Perm.
    """
    perm = Perm(perm)
    if not _active(user):
        return False
    if perm in FINANCE_PERMS:
        return user.role == Role.FINANCE
    if bill is None:
        return user.role in (Role.SALES, Role.CUSTOMER_SUCCESS)
    return can_decide(user, bill.customer)


def refusal(user: User | None, perm: Perm, bill: OfCustomer | None = None) -> str:
    """The sentence a refused user reads: "Your role (Sales) may not generate bills.", and for a
    decision on a bill, whose: "... may not approve bills of Acme Corp."."""
    phrase = PERM_PHRASES[perm]
    if bill is not None and perm in DECISION_PERMS:
        phrase = f"{phrase} of {bill.customer.name}"
    return f"Your role ({getattr(user, 'role', None) or 'none'}) may not {phrase}."


def require(user: User | None, perm: Perm, bill: OfCustomer | None = None) -> None:
    """Raises DomainError(kind="forbidden") with `refusal(...)` unless `can(user, perm, bill)`."""
    if not can(user, perm, bill):
        raise DomainError.forbidden(refusal(user, perm, bill))


def approval_slot(user: User) -> str | None:
    """Which of a bill's two approvals this user's approval fills: "csm", "sales" or None."""
    if user.role == Role.SALES:
        return "sales"
    if user.role == Role.CUSTOMER_SUCCESS:
        return "csm"
    return None
