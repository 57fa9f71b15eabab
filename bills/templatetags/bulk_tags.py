"""What the dashboard's bulk bar and the Send popovers ask: which bulk actions the viewer's role
may take at all, and where and when an invoice would go if sent now. No query of their own."""

from __future__ import annotations

from django import template

from accounts.roles import can
from bills.models import Bill
from bills.send_preview import SendSummary
from bills.send_preview import send_summary as summary_of
from bills.services import lifecycle
from bills.services.bulk import BULK_ACTIONS

register = template.Library()


@register.simple_tag(takes_context=True)
def bulk_actions(context) -> list[lifecycle.Transition]:
    """{% bulk_actions as bulk %}: the Transitions (approve, reject, send) the signed-in user's
    role may take on some bill; empty for none. Each bill is asked again when it is acted on."""
    user = context["request"].user
    return [
        lifecycle.TRANSITIONS[name]
        for name in BULK_ACTIONS
        if can(user, lifecycle.TRANSITIONS[name].perm)
    ]


@register.simple_tag
def send_summary(bill: Bill) -> SendSummary:
    """{% send_summary bill as s %}: the recipient, its problem, the kept number, the due date
    (bills.send_preview.send_summary)."""
    return summary_of(bill)
