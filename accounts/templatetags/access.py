"""What a role may do, for templates that show or hide a link or a form."""

from __future__ import annotations

from django import template

from accounts.roles import Perm, can

register = template.Library()


@register.simple_tag(takes_context=True)
def user_can(context, perm: str) -> bool:
    """{% user_can "generate_bills" as can_generate %}: whether the signed-in user's role may."""
    return can(context["request"].user, Perm(perm))
