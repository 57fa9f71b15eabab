"""Writes about users: signing up, logging in, logging out everywhere."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from accounts.models import Role, User
from accounts.names import name_errors
from accounts.passwords import PASSWORD_MAX_LENGTH
from billing_site.core.errors import DomainError

LOGIN_FAILED = "Wrong name or password."
SIGNUP_OFF = "Sign-up is turned off here; ask an admin for an account."
SIGNUP_FIELDS = ("name", "email", "role", "password")


def _clean_text(value: object, field: str, errors: dict[str, list[str]], *, max_length: int) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        errors[field] = ["This field is required."]
        return ""
    if not isinstance(value, str):
        errors[field] = ["Enter text."]
        return ""
    if "\x00" in value:
        errors[field] = ["Null characters are not allowed."]
        return ""
    if len(value) > max_length:
        errors[field] = [f"Use at most {max_length} characters."]
    return value.strip()


def signup_open() -> bool:
    """Whether anyone may sign up (settings.ALLOW_SIGNUP); asked before a form is even read."""
    return bool(settings.ALLOW_SIGNUP)


def user_signup(*, name: str, email: str, role: str, password: str) -> User:
    """Create a user (SPEC "Data": User) and return it; the password is hashed with bcrypt.

    `role` is one of Role.values; no two names read the same (accounts.names: case, look-alike
    letters, no invisible characters). The values are checked again
    here whatever the caller parsed (text, no NUL byte, lengths, a valid email, the password
    validators). Raises DomainError: forbidden when sign-up is off (settings.ALLOW_SIGNUP);
    invalid with `errors` naming each bad field.
    """
    if not signup_open():
        raise DomainError.forbidden(SIGNUP_OFF)
    errors: dict[str, list[str]] = {}
    name = _clean_text(name, "name", errors, max_length=150)
    email = _clean_text(email, "email", errors, max_length=254)
    role = _clean_text(role, "role", errors, max_length=32)
    if password is None or password == "":
        errors["password"] = ["This field is required."]
    elif not isinstance(password, str) or "\x00" in password:
        errors["password"] = ["Enter a valid password."]
    if "email" not in errors:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = ["Enter a valid email address."]
    if "role" not in errors and role not in Role.values:
        errors["role"] = [f"Choose one of: {', '.join(Role.values)}."]
    if "name" not in errors and (name_refusals := name_errors(name)):
        errors["name"] = name_refusals
    if "password" not in errors:
        try:
            validate_password(password, User(name=name, email=email))
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    if errors:
        raise DomainError("Check the highlighted fields.", kind="invalid", errors=errors)
    try:
        with transaction.atomic():
            return User.objects.create_user(name=name, email=email, role=role, password=password)
    except IntegrityError:
        raise DomainError.invalid("That name is taken.", "name") from None


def user_authenticate(*, request: HttpRequest | None, name: str, password: str) -> User:
    """The active user with this name and password (SPEC "JSON API": POST /api/session).

    Raises DomainError(kind="invalid") with one message (LOGIN_FAILED) for any wrong, missing
    or malformed name or password, so a caller cannot tell which was wrong.
    """
    if not isinstance(name, str) or not isinstance(password, str) or not name or not password:
        raise DomainError(LOGIN_FAILED, kind="invalid")
    too_long = len(name) > 150 or len(password) > PASSWORD_MAX_LENGTH
    if "\x00" in name or "\x00" in password or too_long:
        raise DomainError(LOGIN_FAILED, kind="invalid")
    user = authenticate(request, name=name.strip(), password=password)
    if user is None:
        raise DomainError(LOGIN_FAILED, kind="invalid")
    return user


def user_logout_everywhere(*, user: User) -> None:
    """Rotate the user's session token: every session and API token of the user stops working
    (SPEC "Data": User.session_token is rotated on logout)."""
    user.rotate_session_token()


def user_set_digest(*, user: User, notify_digest: bool) -> User:
    """Turn the user's approvers' digest email on or off (the profile page); saves only that
    column. Returns the user. Raises DomainError(kind="invalid") naming "notify_digest" for
    anything but a bool."""
    if not isinstance(notify_digest, bool):
        raise DomainError.invalid("Choose yes or no.", "notify_digest")
    user.notify_digest = notify_digest
    user.save(update_fields=["notify_digest"])
    return user
