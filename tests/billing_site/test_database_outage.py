"""The database goes away and comes back under a running server (issue 13, "Database restarts").

gunicorn runs the app in a separate process and reaches PostgreSQL through a TCP relay this test
owns, so the test can cut every connection (a restart), refuse new ones (the database is down)
and let them through again. Against the running server:
- after a restart, the first request of a worker that holds a broken pooled connection succeeds
  (CONN_HEALTH_CHECKS), it does not answer 500;
- while the database is down, pages answer 503 with the site's message, the API a JSON 503, and
  /healthz says the database is unreachable;
- once it is back, everything answers as before.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from accounts.models import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL (DATABASE_URL): the relay sits in front of its TCP port",
    ),
]

ROOT = Path(__file__).resolve().parents[2]


class Relay:
    """A TCP relay to the database: `cut()` closes every relayed connection (as a restart does),
    `down()` also refuses new ones, `up()` accepts them again."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepting = True
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.accepting:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self):
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for s in pair:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def down(self):
        self.accepting = False
        self.cut()

    def up(self):
        self.accepting = True

    def close(self):
        self.down()
        self.listener.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """gunicorn (two sync workers) on the test database, through a Relay, with the static files
    collected as production serves them."""
    settings = connection.settings_dict
    relay = Relay((settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432)))
    port = _free_port()
    url = f"postgres://{settings['USER']}@127.0.0.1:{relay.port}/{settings['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": "outage-test-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    env.pop("PYTEST_CURRENT_TEST", None)
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "billing_site.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(process.stderr.read().decode()[-2000:]) from None
            time.sleep(0.2)
    # The socket accepts before the workers have loaded the app: wait for a real answer.
    while _get(base, "/healthz")[0] != 200:
        if process.poll() is not None or time.monotonic() > deadline + 60:
            raise RuntimeError(process.stderr.read().decode()[-2000:])
        time.sleep(0.2)
    yield base, relay
    process.terminate()
    process.wait(timeout=10)
    relay.close()


def _get(base: str, path: str, **headers) -> tuple[int, str, dict]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(base + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=90) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def _log_in(base: str) -> tuple[str, str]:
    """(API token, page session cookie) for fiona."""
    import json
    import urllib.request

    body = json.dumps({"name": "fiona", "password": PASSWORD}).encode()
    request = urllib.request.Request(
        base + "/api/session", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=90) as response:
        cookies = response.headers.get_all("Set-Cookie")
        session = next(c.split(";")[0] for c in cookies if c.startswith("sessionid="))
        return json.loads(response.read())["token"], session


def test_a_restart_costs_no_request_and_an_outage_answers_503(server):
    base, relay = server
    UserFactory(name="fiona", role=Role.FINANCE)
    token, session = _log_in(base)
    auth = {"Authorization": f"Bearer {token}"}
    assert _get(base, "/dashboard", Cookie=session)[0] == 200
    # Every worker holds a pooled connection (several requests, two workers).
    for _ in range(6):
        assert _get(base, "/api/bills", **auth)[0] == 200

    relay.cut()  # PostgreSQL restarted: every pooled connection is now broken
    answers = [_get(base, "/api/bills", **auth)[0] for _ in range(6)]
    assert answers == [200] * 6

    relay.down()  # PostgreSQL is down
    status, body, headers = _get(base, "/api/bills", **auth)
    assert (status, headers.get("Content-Type")) == (503, "application/json"), body
    assert "database cannot be reached" in body
    assert headers.get("Retry-After") == "10"
    status, body, _ = _get(base, "/dashboard", Cookie=session)
    assert status == 503
    assert "The billing desk is unavailable for a moment" in body
    assert "Traceback" not in body
    assert _get(base, "/healthz")[:2] == (503, "database unreachable")

    relay.up()  # back
    assert _get(base, "/healthz")[:2] == (200, "ok")
    assert [_get(base, "/api/bills", **auth)[0] for _ in range(4)] == [200] * 4
