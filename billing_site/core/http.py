"""What every page view shares: where to go back to, a refusal page, and a service's error put
on a form."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from billing_site.core.errors import DomainError


def safe_next(request: HttpRequest, fallback: str | None = None) -> str:
    """The `next` page posted or asked for, if it is on this site; else `fallback` (by default
    settings.LOGIN_REDIRECT_URL). Never an address on another host (an open redirect)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if target and allowed:
        return target
    return settings.LOGIN_REDIRECT_URL if fallback is None else fallback


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    """The 403 page with the refusal's sentence (e.g. roles.refusal())."""
    return render(request, "403.html", {"message": message}, status=403)


def add_domain_errors(form: forms.Form, error: DomainError) -> None:
    """Put a DomainError's field messages on the form's fields, anything else on the form."""
    placed = False
    for field, messages in (error.errors or {}).items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)
