"""The login limits hold across gunicorn workers (issue 13, "Login limits that neither leak nor
lock out"): three workers on the test database, behind a trusted proxy (NUM_PROXIES=1), take
simultaneous guesses at one name from one address. Exactly the limit get through whichever
worker answers, and the rightful user, from another address, still logs in."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts.models import Role
from tests.factories import PASSWORD, UserFactory
from tests.processes import Processes

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL (DATABASE_URL): the workers share the test database",
    ),
]


@pytest.fixture
def server(tmp_path):
    """gunicorn, three sync workers, on the test database; the limits at their defaults."""
    processes = Processes(tmp_path)
    try:
        yield processes.start_web("gunicorn", workers=3, NUM_PROXIES="1")
    finally:
        processes.stop_all()


def _log_in(base: str, address: str, password: str) -> int:
    request = urllib.request.Request(
        base + "/api/session",
        data=json.dumps({"name": "fiona", "password": password}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": address},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_limit_holds_across_workers_and_spares_the_owner(server):
    UserFactory(name="fiona", role=Role.FINANCE)
    with ThreadPoolExecutor(max_workers=6) as pool:
        guesses = list(pool.map(lambda i: _log_in(server, "203.0.113.9", f"guess-{i}"), range(16)))
    assert sorted(guesses) == [401] * 10 + [429] * 6
    assert _log_in(server, "203.0.113.9", PASSWORD) == 429
    assert _log_in(server, "198.51.100.7", PASSWORD) == 200
