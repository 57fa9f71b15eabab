"""The sign-up limit holds in total across gunicorn workers (issue 12, "Limits and locks shared
across processes and machines"): three workers on the test database, behind a trusted proxy
(NUM_PROXIES=1), take simultaneous sign-ups from one address. Exactly the limit are made,
whichever worker answers each, and another address still signs up."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from accounts.models import User

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL (DATABASE_URL): the workers share the test database",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 4  # SIGNUP_THROTTLE_ADDRESS for the server below: 4/hour


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """gunicorn, three sync workers, on the test database; sign-up on, LIMIT per address."""
    db = connection.settings_dict
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "DEBUG": "0",
        "SECRET_KEY": "limits-test-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_ROOT": str(tmp_path / "static"),
        "NUM_PROXIES": "1",
        "ALLOW_SIGNUP": "1",
        "SIGNUP_THROTTLE_ADDRESS": f"{LIMIT}/hour",
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [gunicorn, "billing_site.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "3"]
        + ["--timeout", "120"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "gunicorn.log").read_text()[-2000:]) from None
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)
    log.close()
    print((tmp_path / "gunicorn.log").read_text()[-3000:])


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
