"""Clients for the usage tests: the JSON API with a user's bearer token (as tests/api does)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api_as():
    """api_as(user) -> an API client sending that user's bearer token."""

    def make(user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {user.session_token}")
        return client

    return make
