"""Which buttons a person sees. Asks accounts.roles for the role, and the bill's status for
what the lifecycle allows next (SPEC "Bill lifecycle"); the services enforce both again."""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from accounts.roles import Perm, approval_slot, can
from bills.models import Status

register = template.Library()


@dataclass(frozen=True)
class BillButtons:
    approve: bool = False
    reject: bool = False
    revert: bool = False
    update: bool = False
    send: bool = False
    void: bool = False

    @property
    def any(self) -> bool:
        return any(vars(self).values())


def bill_buttons_for(user, bill) -> BillButtons:
    status = bill.status
    slot = approval_slot(user) if getattr(user, "is_authenticated", False) else None
    slot_free = slot is not None and getattr(bill, f"{slot}_approved_by_id") is None
    undoable = status in (Status.APPROVED, Status.REJECTED) or (
        status == Status.DRAFT and bill.approvals_given > 0
    )
    return BillButtons(
        approve=status == Status.DRAFT and slot_free and can(user, Perm.APPROVE_BILL, bill),
        reject=status == Status.DRAFT and can(user, Perm.REJECT_BILL, bill),
        revert=undoable and can(user, Perm.REVERT_BILL, bill),
        update=status in (Status.DRAFT, Status.REJECTED) and can(user, Perm.UPDATE_BILL, bill),
        send=status == Status.APPROVED and can(user, Perm.SEND_BILL, bill),
        void=status == Status.SENT and can(user, Perm.VOID_BILL, bill),
    )


@register.simple_tag(takes_context=True)
def bill_buttons(context, bill) -> BillButtons:
    """{% bill_buttons bill as buttons %}: the actions the signed-in user may take on it now."""
    return bill_buttons_for(context["request"].user, bill)


@register.simple_tag(takes_context=True)
def user_can(context, perm: str, bill=None) -> bool:
    """{% user_can "generate_bills" as can_generate %}"""
    return can(context["request"].user, Perm(perm), bill)
