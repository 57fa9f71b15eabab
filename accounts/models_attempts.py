"""LoginAttempt: the shared store of the login and sign-up limits (accounts.throttles).

The counts live in the database, not in a worker's memory, so every gunicorn worker (and every
server) sees the same attempts; one row per counted attempt keeps the sliding window exact.
"""

from django.db import models


class LoginAttempt(models.Model):
    """One attempt counted against one limit: `scope` names the limit (login_address,
    login_name_address, login_name, signup_address; login_ok marks an address a user logged in
    from), `ident` is a SHA-256 digest of what it counts (an address, a name, or both)."""

    scope = models.CharField(max_length=32)
    ident = models.CharField(max_length=64)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["scope", "ident", "at"], name="login_attempt_window")]

    def __str__(self) -> str:
        return f"{self.scope} {self.ident[:8]} {self.at:%Y-%m-%d %H:%M:%S}"
