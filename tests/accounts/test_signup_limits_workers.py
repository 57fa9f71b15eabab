"""The sign-up limit holds in total across gunicorn workers (issue 12, "Limits and locks shared
across processes and machines"): three workers on the test database, behind a trusted proxy
(NUM_PROXIES=1), take simultaneous sign-ups from one address. Exactly the limit are made,
whichever worker answers each, and another address still signs up."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts.models import User
from tests.processes import Processes

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL (DATABASE_URL): the workers share the test database",
    ),
]

LIMIT = 4  # SIGNUP_THROTTLE_ADDRESS for the server below: 4/hour


@pytest.fixture
def server(tmp_path):
    """gunicorn, three sync workers, on the test database; sign-up on, LIMIT per address."""
    processes = Processes(tmp_path)
    try:
        yield processes.start_web(
            "gunicorn",
            workers=3,
            NUM_PROXIES="1",
            ALLOW_SIGNUP="1",
            SIGNUP_THROTTLE_ADDRESS=f"{LIMIT}/hour",
        )
    finally:
        processes.stop_all()


def _sign_up(base: str, address: str, name: str) -> int:
    """POST /api/users as a client at `address` (X-Forwarded-For); the status code."""
    body = {"name": name, "email": f"{name}@example.com", "role": "Sales"}
    request = urllib.request.Request(
        base + "/api/users",
        data=json.dumps({**body, "password": "a long enough passphrase"}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": address},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_signup_limit_holds_in_total_across_workers(server):
    tries = 3 * LIMIT  # were each worker counting alone, all of these could get through
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(
            pool.map(lambda i: _sign_up(server, "203.0.113.9", f"user{i}"), range(tries))
        )
    assert sorted(answers) == [201] * LIMIT + [429] * (tries - LIMIT)
    assert User.objects.count() == LIMIT
    assert _sign_up(server, "198.51.100.7", "neighbour") == 201
