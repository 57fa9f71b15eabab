"""Login and sign-up attempt limits, shared by the API, the /welcome page and the admin's login.

The attempts are counted in the database (accounts.models_attempts.LoginAttempt), so every
worker and every server counts in one store. A login attempt is counted against three limits,
in this order, and stops at the first that refuses it (a refused attempt counts no further):

- `login_address`: from one client address, whatever the name (LOGIN_THROTTLE_ADDRESS, 30/min);
- `login_name_address`: for one name from one address (LOGIN_THROTTLE_NAME_ADDRESS, 10/min):
  the guesses a stranger gets at one user, without touching the user's other addresses;
- `login_name`: for one name from anywhere, the ceiling (LOGIN_THROTTLE_NAME, 100/hour) against
  guessing from many addresses. Reaching it logs a warning (the alert) and refuses the name,
  except from an address the user has logged in from in the last 30 days: a stranger who fills
  the ceiling does not lock the rightful user out of their usual places.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from accounts.models_attempts import LoginAttempt

logger = logging.getLogger("accounts.throttles")

_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
KNOWN_ADDRESS = "login_ok"
KNOWN_FOR = timedelta(days=30)
# Namespace of the PostgreSQL advisory locks that serialize the attempts of one (scope, ident).
_ATTEMPT_LOCK_NAMESPACE = 7_461_002


def digest(value: str) -> str:
    """SHA-256 hex of `value`: idents stay short and printable whatever the client sent."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def name_ident(name: object) -> str | None:
    """Attempts are counted per login name in any case; no name, no count."""
    if not isinstance(name, str) or not name.strip():
        return None
    return name.strip().lower()


def client_address(request) -> str:
    """REMOTE_ADDR, or X-Forwarded-For as far as NUM_PROXIES trusted proxies allow."""
    return str(BaseThrottle().get_ident(request))


def _rate(scope: str) -> tuple[int, int] | None:
    rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
    if not rate:
        return None
    count, period = rate.split("/")
    return int(count), _SECONDS[period.strip()[0]]


def attempt_wait(scope: str, ident: str | None) -> int:
    """Count an attempt and return 0, or return the seconds to wait (the attempt not counted).

    The attempts of one (scope, ident) are counted one at a time, in a transaction holding a
    PostgreSQL advisory lock on them (SQLite holds its one write lock from the first delete), so
    of many simultaneous attempts (any worker, any server) exactly the limit go ahead. Ranking
    rows by id without the lock let a row with a lower id commit after a later attempt had
    counted, and both went ahead.
    """
    rate = _rate(scope)
    if rate is None or not ident:
        return 0
    limit, window = rate
    key = digest(ident)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                    [_ATTEMPT_LOCK_NAMESPACE, f"{scope}:{key}"],
                )
        now = timezone.now()
        since = now - timedelta(seconds=window)
        attempts = LoginAttempt.objects.filter(scope=scope, ident=key)
        attempts.filter(at__lte=since).delete()
        # Idents nobody tries again: their rows go once past the longest window (a day).
        stale = LoginAttempt.objects.filter(at__lt=now - timedelta(days=1))
        stale.exclude(scope=KNOWN_ADDRESS).delete()
        earlier = attempts.filter(at__gt=since)
        if earlier.count() < limit:
            LoginAttempt.objects.create(scope=scope, ident=key, at=now)
            return 0
        oldest = earlier.aggregate(oldest=Min("at"))["oldest"] or now
        return max(1, int((oldest - since).total_seconds()) + 1)


def _pair(name: str, address: str) -> str:
    return f"{name}\x00{address}"


def login_wait(request, name: object) -> int:
    """Count a login attempt by this name from this client: 0 to go ahead, else seconds to wait.

    Every door that checks a password asks this (the API, the page, the admin's login), so no
    door is a way around the limits (see the module docstring for the three limits).
    """
    address, ident = client_address(request), name_ident(name)
    wait = attempt_wait("login_address", address)
    if wait or ident is None:
        return wait
    wait = attempt_wait("login_name_address", _pair(ident, address))
    if wait:
        return wait
    wait = attempt_wait("login_name", ident)
    if wait:
        logger.warning(
            "Login ceiling reached for the name %r (%s): refusing it from unknown addresses.",
            ident[:150],
            _rate("login_name"),
        )
        if _known_address(ident, address):
            return 0
    return wait


def _known_address(ident: str, address: str) -> bool:
    since = timezone.now() - KNOWN_FOR
    return LoginAttempt.objects.filter(
        scope=KNOWN_ADDRESS, ident=digest(_pair(ident, address)), at__gt=since
    ).exists()


def login_succeeded(request, name: str) -> None:
    """Remember that `name` logged in from this client's address (for KNOWN_FOR), so a ceiling
    that strangers fill for the name never refuses its owner there."""
    key = digest(_pair(name_ident(name) or "", client_address(request)))
    known = LoginAttempt.objects.filter(scope=KNOWN_ADDRESS, ident=key)
    known.filter(at__lte=timezone.now() - KNOWN_FOR).delete()
    if not known.exists():
        LoginAttempt.objects.create(scope=KNOWN_ADDRESS, ident=key, at=timezone.now())
    else:
        known.update(at=timezone.now())


class LoginThrottle(BaseThrottle):
    """DRF's door to login_wait: POST /api/session counts in the same limits as the page."""

    def allow_request(self, request, view):
        """Count the attempt (name from the JSON body, if any); False when it must wait."""
        data = request.data if isinstance(request.data, Mapping) else {}
        self._wait = login_wait(request, data.get("name"))
        return self._wait == 0

    def wait(self):
        """Seconds until the next attempt may go ahead."""
        return self._wait


class SignupThrottle(BaseThrottle):
    """Sign-ups per client address (SIGNUP_THROTTLE_ADDRESS), shared with the sign-up page."""

    def allow_request(self, request, view):
        """Count the sign-up; False when this address must wait."""
        self._wait = attempt_wait("signup_address", client_address(request))
        return self._wait == 0

    def wait(self):
        """Seconds until the next sign-up may go ahead."""
        return self._wait
