"""Real processes on the pytest-django test database, for the tests that attack the running app
(issue 13, "Prove it": faults): `manage.py run_worker` workers and gunicorn instances, started
with the test database's URL and a clean environment, logged to files, killed by the test.

The data the processes read must be committed, so the tests using them are transactional
(`transactional_db`) and PostgreSQL only. Same approach as tests/billing_site/
test_worker_process.py.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection

from billing_site.core.models import WorkerHeartbeat

ROOT = Path(__file__).resolve().parents[1]
# Settings a developer's shell may hold that would change what the processes do.
_OWN_VARIABLES = ("EMAIL_", "DELIVERY_", "WORKER_", "TEST_MAIL", "LOG_", "LOGIN_", "SIGNUP_")
# Starting Django takes seconds, many more on a loaded machine: a deadline apart from the tests'.
STARTUP_SECONDS = 90


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (as of this call)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    """The DATABASE_URL of the test database this test runs on (postgres://user@host:port/name)."""
    db = connection.settings_dict
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


class Processes:
    """Workers and web instances on the test database; `stop_all()` kills those still running.
    Each process writes its output to <tmp>/<name>.log; `logs()` gives their tails."""

    def __init__(self, tmp_path: Path, **env: str):
        self.tmp_path = tmp_path
        self.processes: dict[str, subprocess.Popen] = {}
        (tmp_path / "static").mkdir(exist_ok=True)
        self.env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(_OWN_VARIABLES) and name != "PYTEST_CURRENT_TEST"
        }
        self.env.update(
            DATABASE_URL=database_url(),
            DEBUG="0",
            SECRET_KEY="processes-test-" + "x" * 50,
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="0",
            STATIC_ROOT=str(tmp_path / "static"),
            WORKER_HEARTBEAT_SECONDS="1",
            WORKER_GONE_SECONDS="2",
            LOG_FORMAT="text",
        )
        self.env.update(env)  # the caller's win over the defaults above

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = (self.tmp_path / f"{name}.log").open("wb")
        # A session (process group) of its own: gunicorn's workers die with their master.
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes[name] = process
        return process

    def start_worker(self, worker_id: str, **env: str) -> subprocess.Popen:
        """Start `manage.py run_worker` with id `worker_id` and these extra environment
        variables; returns once it has recorded its first heartbeat (AssertionError if it exits
        first or takes over STARTUP_SECONDS)."""
        command = [sys.executable, "manage.py", "run_worker", "--no-reload"]
        command += ["--no-startup-delay", "--interval", "0.2", "--worker-id", worker_id]
        process = self._spawn(worker_id, command, env)
        started = WorkerHeartbeat.objects.filter(worker_id=worker_id)
        self.until(started.exists, f"{worker_id}'s first heartbeat", STARTUP_SECONDS)
        return process

    def start_web(self, name: str, *, workers: int = 1, threads: int = 1, **env: str) -> str:
        """Start gunicorn (`workers` processes of `threads` threads) with these extra
        environment variables; returns its base URL ("http://127.0.0.1:<port>") once GET
        /health/live answers 200."""
        port = free_port()
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        command = [gunicorn, "billing_site.wsgi", "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", str(workers), "--threads", str(threads)]
        command += ["--timeout", "120", "--log-level", "warning"]
        self._spawn(name, command, env)
        base = f"http://127.0.0.1:{port}"
        self.until(lambda: _answers(base), f"{name} to answer", STARTUP_SECONDS)
        return base

    def kill(self, name: str) -> None:
        """SIGKILL the process and its children (no cleanup of any kind runs) and reap it."""
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        """Kill every process started, with its children (the fixtures' finally)."""
        for name in self.processes:
            self.kill(name)

    def logs(self) -> str:
        """The last 3000 characters of each process's output, with its exit status."""
        parts = []
        for name, process in self.processes.items():
            text = (self.tmp_path / f"{name}.log").read_text(errors="replace")
            parts.append(f"--- {name} (exit {process.poll()}) ---\n{text[-3000:]}")
        return "\n".join(parts)

    def until(self, check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
        """Poll `check()` every 0.1 s until it returns a true value (returned). AssertionError
        with the logs after `timeout` seconds, or as soon as a process not killed by the test
        exits."""
        deadline = time.monotonic() + timeout
        while not (value := check()):
            exited = [n for n, p in self.processes.items() if p.poll() not in (None, -9)]
            if exited or time.monotonic() > deadline:
                raise AssertionError(f"waiting for {what}: exited {exited}\n{self.logs()}")
            time.sleep(0.1)
        return value


def _answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/health/live", timeout=5) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def http(
    base: str, method: str, path: str, body: Any = None, token: str = "", timeout: float = 60
) -> tuple[int, bytes]:
    """One request to a running instance: `body` sent as JSON, `token` as the Bearer token.
    Returns (status, response body); an HTTP error status is returned, not raised."""
    import json

    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
