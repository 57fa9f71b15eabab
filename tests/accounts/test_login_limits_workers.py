"""The login limits hold across gunicorn workers (issue 13, "Login limits that neither leak nor
lock out"): three workers on the test database, behind a trusted proxy (NUM_PROXIES=1), take
simultaneous guesses at one name from one address. Exactly the limit get through whichever
worker answers, and the rightful user, from another address, still logs in."""

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

from accounts.models import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL (DATABASE_URL): the workers share the test database",
    ),
]

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """gunicorn, three sync workers, on the test database; the limits at their defaults."""
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
    }
    for name in ("LOGIN_THROTTLE_ADDRESS", "LOGIN_THROTTLE_NAME_ADDRESS", "LOGIN_THROTTLE_NAME"):
        env.pop(name, None)
    env.pop("PYTEST_CURRENT_TEST", None)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            gunicorn,
            "billing_site.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--timeout",
            "120",
        ],
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
