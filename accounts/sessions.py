"""Database sessions that refuse malformed keys before they reach a query.

Python's cookie parser turns `"abc\\000def"` into a NUL byte, which PostgreSQL text cannot hold:
Django's own check (truthy, 8+ characters) would send it to the database and get a 500.
"""

import re

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

# Django makes keys of 32 lowercase letters and digits.
_SESSION_KEY = re.compile(r"[a-z0-9]{8,40}")


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key):
        return isinstance(key, str) and _SESSION_KEY.fullmatch(key) is not None
