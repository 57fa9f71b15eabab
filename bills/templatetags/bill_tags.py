"""What the bill templates ask the lifecycle: the viewer's buttons, how a status reads, the
history's wording. No template restates a status rule."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django import template
from django.utils import timezone

from billing_site.core.money import format_money, with_currency
from bills.models import Bill, BillAction
from bills.services import lifecycle, pricing
from bills.services.history import describe_changes
from bills.services.outbox import resend_offered

register = template.Library()


@dataclass(frozen=True)
class BillButtons:
    """Each action's Transition (label, help) when the viewer may take it now, else None."""

    approve: lifecycle.Transition | None = None
    reject: lifecycle.Transition | None = None
    revert: lifecycle.Transition | None = None
    update: lifecycle.Transition | None = None
    send: lifecycle.Transition | None = None
    void: lifecycle.Transition | None = None
    rebill: lifecycle.Transition | None = None
    dismiss: lifecycle.Transition | None = None
    record_payment: lifecycle.Transition | None = None
    undo_payment: lifecycle.Transition | None = None

    @property
    def any(self) -> bool:
        return any(vars(self).values())

    @property
    def in_row(self) -> bool:
        """Whether a dashboard row has a button (it offers approve, reject and send)."""
        return bool(self.approve or self.reject or self.send)


def bill_buttons_for(user, bill: Bill) -> BillButtons:
    if not getattr(user, "is_authenticated", False):
        return BillButtons()
    allowed = lifecycle.bill_available_actions(bill=bill, user=user)
    return BillButtons(**{name: lifecycle.TRANSITIONS[name] for name in allowed})


@register.simple_tag(takes_context=True)
def bill_buttons(context, bill: Bill) -> BillButtons:
    """{% bill_buttons bill as buttons %}: the actions the signed-in user may take on it now."""
    return bill_buttons_for(context["request"].user, bill)


@register.filter
def status_view(bill: Bill) -> lifecycle.StatusView:
    """{{ bill|status_view }}: the amount's heading, whether it is struck, the invoice stamp."""
    return lifecycle.STATUS_VIEWS[bill.status]


@register.filter
def next_step(bill: Bill) -> str:
    """Who acts next on the bill, in a sentence."""
    return lifecycle.status_next_step(bill)


@register.filter
def history_changes(action: BillAction) -> list[str]:
    """A history row's changes as short sentences, for the timeline."""
    return describe_changes(action.changes, currency=action.bill.currency)


@register.filter
def action_verb(action: str) -> str:
    """A history row's action as the timeline says it: "undid a decision"."""
    return lifecycle.HISTORY_VERBS.get(action, action)


@register.simple_tag
def allowed_from(action: str) -> str:
    """{% allowed_from "update" %}: the statuses an action starts from, "draft or rejected"."""
    return " or ".join(lifecycle.TRANSITIONS[action].from_statuses)


@register.filter
def amount_difference(bill: Bill) -> Decimal:
    """What the bill would charge for its month's usage now, minus what it charges."""
    return pricing.overage_amount_now(bill) - bill.overage_amount


@register.filter
def signed(value: int) -> str:
    """A change with its sign: 1500 -> "+1,500", -20 -> "−20"."""
    return f"+{value:,}" if value > 0 else f"−{-value:,}" if value < 0 else "0"


@register.filter
def signed_money(value: Decimal, currency: str) -> str:
    """A change of money with its sign and currency: "+USD 12.50"."""
    sign = "+" if value > 0 else "−" if value < 0 else ""
    return f"{sign}{with_currency(format_money(abs(value)), currency)}"


@register.filter
def delivery_text(delivery) -> str:
    """The latest email of a bill's document in a sentence, for the bill page: "queued",
    "delivered 7 Dec 2026, 14:02", "retrying after 2 failed attempts: reason", "failed after 5
    attempts: reason" (services.outbox)."""
    label = delivery.document_title
    where = f"{label} to {delivery.to_email}"
    if delivery.status == "delivered":
        when = timezone.localtime(delivery.delivered_at)
        return f"{where}: delivered {when:%-d %b %Y, %H:%M}."
    if delivery.status == "failed":
        tries = f"{delivery.attempts} attempt{'s' * (delivery.attempts != 1)}"
        return f"{where}: failed after {tries}: {delivery.last_error}"
    if delivery.status == "sending":
        return f"{where}: being handed to the mail server now."
    if delivery.attempts:
        tries = f"{delivery.attempts} failed attempt{'s' * (delivery.attempts != 1)}"
        return f"{where}: queued again after {tries} ({delivery.last_error})."
    return f"{where}: queued; the worker emails it shortly."


@register.simple_tag(takes_context=True)
def can_resend(context, bill: Bill, delivery) -> bool:
    """{% can_resend bill delivery as resend %}: whether the viewer is offered "Email it
    again" (services.outbox.resend_offered)."""
    return resend_offered(user=context["request"].user, bill=bill, latest=delivery)
