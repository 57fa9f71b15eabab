"""Login and sign-up attempt limits, shared by the API and the /welcome page.

Both doors count in the same cache entries, in DRF's format (`throttle_<scope>_<digest>`, a list
of attempt times, newest first), so guessing through one door uses up the budget of the other.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def digest(value: str) -> str:
    # Cache keys stay short and printable whatever the client sent (NUL bytes, megabytes).
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def cache_key(scope: str, ident: str) -> str:
    return f"throttle_{scope}_{digest(ident)}"


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
    """Count an attempt and return 0, or return the seconds to wait (the attempt not counted)."""
    rate = _rate(scope)
    if rate is None or not ident:
        return 0
    limit, window = rate
    key, now = cache_key(scope, ident), time.time()
    history = [t for t in cache.get(key, []) if t > now - window]
    if len(history) >= limit:
        return max(1, int(history[-1] + window - now) + 1)
    cache.set(key, [now, *history], window)
    return 0


def login_wait(request, name: object) -> int:
    """Count a login attempt by this name from this client: 0 to go ahead, else seconds to wait.

    Every door that checks a password asks this (the API through DRF's throttles, which keep the
    same entries), so no door is a way around the budget.
    """
    return max(
        attempt_wait("login_name", name_ident(name)),
        attempt_wait("login_address", client_address(request)),
    )
