"""Welcome (log in, sign up) and log out. The rules live in accounts.services."""

import hashlib
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import LoginForm, SignupForm, add_domain_errors
from accounts.services import user_authenticate, user_logout_everywhere, user_signup
from billing_site.errors import DomainError


def safe_next(request, fallback: str = settings.LOGIN_REDIRECT_URL) -> str:
    """The page the person first asked for, if it is on this site; else the fallback."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else fallback


_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _rate(scope: str) -> tuple[int, int] | None:
    """The API's throttle rate for `scope` ("10/min" -> (10, 60)), so both doors share limits."""
    rate = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get(scope)
    if not rate:
        return None
    count, period = rate.split("/")
    return int(count), _PERIODS[period.strip()[0]]


def attempts_wait(*idents: tuple[str, str]) -> int:
    """Seconds before another attempt is allowed for these (scope, identity) pairs; 0 is now.

    Without it the page would be a way around the API's limits on password guessing and
    sign-up floods: both doors use the same rates.
    """
    now, waits = time.time(), []
    for scope, ident in idents:
        rate = _rate(scope)
        if rate is None or not ident:
            continue
        limit, window = rate
        key = f"pages:{scope}:{hashlib.sha256(ident.encode('utf-8', 'replace')).hexdigest()}"
        history = [t for t in cache.get(key, []) if t > now - window]
        if len(history) >= limit:
            waits.append(int(history[0] + window - now) + 1)
            continue
        cache.set(key, [*history, now], window)
    return max(waits, default=0)


def _too_many(form, wait: int) -> None:
    form.is_valid()
    form.add_error(None, f"Too many attempts. Try again in {wait} seconds.")


@require_GET
def home(request):
    return redirect("bills:dashboard")


@require_http_methods(["GET", "POST"])
def welcome(request):
    next_url = safe_next(request)
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    context = {
        "login_form": LoginForm(),
        "signup_form": SignupForm(),
        "next": next_url,
        "allow_signup": settings.ALLOW_SIGNUP,
    }
    status = 200
    if request.method == "POST":
        signing_up = request.POST.get("intent") == "signup"
        form, status = (_signup if signing_up else _login)(request)
        if form is None:
            return redirect(next_url)
        context["signup_form" if signing_up else "login_form"] = form
    return render(request, "accounts/welcome.html", context, status=status)


def _signup(request) -> tuple[SignupForm | None, int]:
    """Sign up and log in: (None, 302), or the form with its errors and a status."""
    form = SignupForm(request.POST)
    wait = attempts_wait(("signup_address", request.META.get("REMOTE_ADDR", "")))
    if wait:
        _too_many(form, wait)
        return form, 429
    if not form.is_valid():
        return form, 200
    try:
        user = user_signup(**form.cleaned_data)
    except DomainError as error:
        add_domain_errors(form, error)
        # A form with errors is still a page to read (200); a refusal is not.
        return form, 403 if error.kind == "forbidden" else 200
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    messages.success(request, f"Welcome, {user.name}. Your account is ready.")
    return None, 302


def _login(request) -> tuple[LoginForm | None, int]:
    """Log in: (None, 302), or the form with its errors and a status."""
    form = LoginForm(request.POST)
    wait = attempts_wait(
        ("login_name", request.POST.get("login-name", "").strip().lower()),
        ("login_address", request.META.get("REMOTE_ADDR", "")),
    )
    if wait:
        _too_many(form, wait)
        return form, 429
    if not form.is_valid():
        return form, 200
    try:
        user = user_authenticate(request=request, **form.cleaned_data)
    except DomainError as error:
        add_domain_errors(form, error)
        return form, 200
    login(request, user)
    return None, 302


@require_POST
def logout_view(request):
    user_logout_everywhere(user=request.user)
    logout(request)
    messages.info(request, "You are logged out everywhere.")
    return redirect(settings.LOGIN_URL)
