"""API authentication: `Authorization: Bearer <token>`, or the Django session with CSRF.

The bearer token is the user's `session_token`, so logging out (which rotates it) revokes the
token and every session at once. Tokens are checked for shape before any query: a NUL byte or a
megabyte of header is a 401, never a database error.
"""

from __future__ import annotations

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from accounts.models import User

# new_session_token() makes 43 URL-safe characters; the column holds up to 64.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,64}")
INVALID_TOKEN = "Invalid or expired token; log in again (POST /api/session)."


class BearerTokenAuthentication(BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not isinstance(header, str) or not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.keyword:
            return None  # another scheme: not ours to judge
        token = token.strip()
        if not TOKEN_SHAPE.fullmatch(token):
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        user = User.objects.filter(session_token=token, is_active=True).first()
        if user is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        return user, token

    def authenticate_header(self, request) -> str:
        # Also what makes DRF answer 401 (not 403) to a request with no credentials.
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The `token` from POST /api/session. Logging out revokes it.",
        }
