"""Which buttons a person sees: exactly what bills.services would allow now (role and status)."""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from accounts.roles import Perm, can
from bills.services import bill_available_actions

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
    if not getattr(user, "is_authenticated", False):
        return BillButtons()
    allowed = bill_available_actions(bill=bill, user=user)
    return BillButtons(**{action: True for action in allowed})


@register.simple_tag(takes_context=True)
def bill_buttons(context, bill) -> BillButtons:
    """{% bill_buttons bill as buttons %}: the actions the signed-in user may take on it now."""
    return bill_buttons_for(context["request"].user, bill)


@register.simple_tag(takes_context=True)
def user_can(context, perm: str, bill=None) -> bool:
    """{% user_can "generate_bills" as can_generate %}"""
    return can(context["request"].user, Perm(perm), bill)
