"""What every page view shares: where to go back to, a refusal page, and a service's error put
on a form."""

from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit

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
    """The 403 page with the refusal's sentence (e.g. roles.refusal()); to htmx, the sentence."""
    if getattr(request, "htmx", False):
        return htmx_failure(request, status=403, message=message)
    return render(request, "403.html", {"message": message}, status=403)


# The event htmx fires on the page for a failure (static/js/app.js shows it in #messages).
FAILURE_EVENT = "showFailure"


def htmx_failure(
    request: HttpRequest, *, status: int, message: str, kind: str = "error"
) -> HttpResponse:
    """A failure answered to htmx: never a whole page to be swapped into a row or a table, only
    the sentence, sent as an event (HX-Trigger) for the page's message area, and no swap.
    `kind` "csrf" offers a Reload button, "login" a link to log in that comes back here."""
    detail = {"kind": kind, "message": message}
    if kind == "login":
        detail["login"] = f"{settings.LOGIN_URL}?{urlencode({'next': current_page(request)})}"
    headers = {"HX-Reswap": "none", "HX-Trigger": json.dumps({FAILURE_EVENT: detail})}
    return HttpResponse(message, status=status, content_type="text/plain", headers=headers)


def current_page(request: HttpRequest) -> str:
    """The address of the page an htmx request came from (HX-Current-URL), as a path on this
    site; else the request's own path when it is a GET, else the dashboard."""
    url = urlsplit(request.headers.get("HX-Current-URL", ""))
    if url.netloc == request.get_host() and url.path.startswith("/"):
        return url.path + (f"?{url.query}" if url.query else "")
    if request.method == "GET":
        return request.get_full_path()
    return settings.LOGIN_REDIRECT_URL


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
