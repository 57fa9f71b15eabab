"""Welcome (log in, sign up) and log out. The rules live in accounts.services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import LoginForm, ProfileForm, SignupForm
from accounts.services import (
    SIGNUP_OFF,
    signup_open,
    user_authenticate,
    user_logout_everywhere,
    user_set_digest,
    user_signup,
)
from accounts.throttles import attempt_wait, client_address, login_succeeded, login_wait
from billing_site.core.errors import DomainError
from billing_site.core.http import add_domain_errors, safe_next


def attempts_wait(*attempts: tuple[str, str | None]) -> int:
    """Seconds before another attempt is allowed; 0 is now. Shares the API's counters."""
    return max((attempt_wait(scope, ident) for scope, ident in attempts), default=0)


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
    if not signup_open():
        # Refused as a whole, before the fields are judged, like POST /api/users.
        form.add_error(None, SIGNUP_OFF)
        return form, 403
    wait = attempts_wait(("signup_address", client_address(request)))
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
    wait = login_wait(request, request.POST.get("login-name"))
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
    login_succeeded(request, user.name)
    login(request, user)
    return None, 302


@require_POST
def logout_view(request):
    user_logout_everywhere(user=request.user)
    logout(request)
    messages.info(request, "You are logged out everywhere.")
    return redirect(settings.LOGIN_URL)


@require_http_methods(["GET", "POST"])
def profile(request):
    """The signed-in user's name, email and role, and their digest email setting (POST saves
    it, then redirects back with a message)."""
    initial = {"notify_digest": request.user.notify_digest}
    form = ProfileForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        on = form.cleaned_data["notify_digest"]
        user_set_digest(user=request.user, notify_digest=on)
        messages.success(
            request,
            "Saved: we email you a digest when new bills wait for your approval."
            if on
            else "Saved: no digest emails.",
        )
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})
