"""The HTTP side of bench/ingest.py (issue 14, "Build" 2a): gunicorn on the bench database, and
client threads posting pre-encoded batches to POST /api/usage."""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import common
from common import ROOT

BATCH = 10_000
STARTUP_SECONDS = 90


class Gunicorn:
    """gunicorn on the bench database, `workers` sync workers, on a free port of 127.0.0.1, its
    output in `log`; a context manager that stops it (its process group) on exit."""

    def __init__(self, url: str, workers: int, log: Path):
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = common.child_env(url)
        env["STATIC_ROOT"] = str(log.parent / "static")
        command = [str(Path(sys.executable).with_name("gunicorn")), "billing_site.wsgi"]
        command += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)]
        command += ["--timeout", "300", "--log-level", "warning"]
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.log = log

    def __enter__(self) -> Gunicorn:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                with urllib.request.urlopen(self.base + "/health/live", timeout=5) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def json_batches(rows: list[tuple[int, int, int, int]]) -> list[bytes]:
    """The rows as POST /api/usage bodies of BATCH items each, encoded before any timing."""
    keys = ("customer_id", "year", "month", "api_usage")
    return [
        json.dumps([dict(zip(keys, r, strict=True)) for r in rows[i : i + BATCH]]).encode()
        for i in range(0, len(rows), BATCH)
    ]


def post_all(port: int, token: str, bodies: list[bytes], clients: int) -> tuple[float, list]:
    """Send every body to POST /api/usage from `clients` threads, each taking the next body
    when its answer is in. Returns (wall seconds from the first send to the last answer, the
    (status, body) of each batch in order)."""
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(bodies)):
        todo.put(i)
    answers: list = [None] * len(bodies)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        try:
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                connection.request("POST", "/api/usage", body=bodies[i], headers=headers)
                answer = connection.getresponse()
                answers[i] = (answer.status, answer.read())
        except (OSError, http.client.HTTPException) as error:
            answers[answers.index(None)] = (0, str(error).encode())
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - begin, answers
