"""The request id and the structured logs (issue 12, "Logs are structured (one JSON object per
line in production, with a request id carried into tasks)"): X-Request-ID is taken from the proxy
when it is safe, made otherwise and answered; each log line carries it; production writes one
JSON object per line, development plain text."""

from __future__ import annotations

import copy
import io
import json
import logging
import logging.config
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from billing_site.core import request_id

ROOT = Path(__file__).resolve().parents[2]
GENERATED = re.compile(r"[0-9a-f]{32}")


def test_a_safe_incoming_id_is_answered_as_is(client):
    incoming = "lb-7f3a.9_Z" + "x" * 53  # 64 characters: the longest accepted
    response = client.get("/health/live", headers={"X-Request-ID": incoming})
    assert response["X-Request-ID"] == incoming


def test_without_an_incoming_id_each_request_gets_a_new_one(client):
    first = client.get("/health/live")["X-Request-ID"]
    second = client.get("/welcome")["X-Request-ID"]  # a page, not only the health check
    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second)
    assert first != second


@pytest.mark.parametrize(
    "unsafe",
    ["x" * 65, "has space", "tab\there", 'quote"d', "<script>", "caf\u00e9", "a/b", "a:b"],
)
def test_an_unsafe_incoming_id_is_replaced(client, unsafe):
    answered = client.get("/health/live", headers={"X-Request-ID": unsafe})["X-Request-ID"]
    assert GENERATED.fullmatch(answered)


def test_bound_sets_the_id_for_a_block_and_restores_the_one_before():
    assert request_id.current() is None
    with request_id.bound("outer"):
        with request_id.bound("task-1") as value:
            assert value == request_id.current() == "task-1"
        assert request_id.current() == "outer"
    assert request_id.current() is None


def _json_lines_of(logger_name: str):
    """A handler built from settings.LOGGING's "json" formatter and "request_id" filter, on
    `logger_name`; returns (the stream it writes to, a function that removes it)."""
    # A copy: configuring a formatter pops its "()" factory from the dict it is given.
    config = copy.deepcopy(settings.LOGGING)
    configurator = logging.config.DictConfigurator(config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configurator.configure_formatter(config["formatters"]["json"]))
    handler.addFilter(configurator.configure_filter(config["filters"]["request_id"]))
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    return stream, lambda: logger.removeHandler(handler)


@pytest.mark.django_db
def test_log_lines_written_during_a_request_carry_its_id(client):
    stream, remove = _json_lines_of("django.request")
    try:
        # Logged inside the middleware chain (an Http404) and after it (a 401 the view returned).
        client.get("/api/no-such-thing", headers={"X-Request-ID": "req-404"})
        client.get("/api/bills", headers={"X-Request-ID": "req-401"})
        assert request_id.current() is None  # the request is over: its id is no longer current
        logging.getLogger("django.request").warning("between requests")
    finally:
        remove()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["request_id"], line["level"], line["message"]) for line in lines] == [
        ("req-404", "WARNING", "Not Found: /api/no-such-thing"),
        ("req-401", "WARNING", "Unauthorized: /api/bills"),
        ("-", "WARNING", "between requests"),
    ]
    for line in lines:
        assert line["logger"] == "django.request"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", line["time"])


def _log_one_line(**env_overrides) -> subprocess.CompletedProcess:
    """A fresh interpreter with the deployed settings logs one warning in a task block."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    for key in ("DEBUG", "LOG_FORMAT", "DATABASE_URL"):
        env.pop(key, None)
    env.update(SECRET_KEY="x7Qv3-production-like-secret-key-with-enough-entropy-9fK2mZpL0aWq8sTn")
    env.update(env_overrides, DJANGO_SETTINGS_MODULE="billing_site.settings")
    code = (
        "import django, logging; django.setup()\n"
        "from billing_site.core import request_id\n"
        "with request_id.bound('req-7'):\n"
        "    logging.getLogger('bills.tasks').warning('delivery %s failed', 12)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_production_writes_one_json_object_per_line():
    result = _log_one_line()
    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.splitlines()
    record = json.loads(line)
    assert set(record) == {"time", "level", "logger", "message", "request_id"}
    assert (record["level"], record["logger"], record["message"], record["request_id"]) == (
        "WARNING",
        "bills.tasks",
        "delivery 12 failed",
        "req-7",
    )


@pytest.mark.parametrize("env", [{"DEBUG": "1"}, {"LOG_FORMAT": "text"}])
def test_development_or_log_format_text_writes_plain_lines(env):
    result = _log_one_line(**env)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ WARNING bills\.tasks \[req-7\] delivery 12 failed\n",
        result.stderr,
    )


def test_an_unknown_log_format_stops_the_app_with_a_clear_message():
    result = _log_one_line(LOG_FORMAT="yaml")
    assert result.returncode != 0
    assert 'LOG_FORMAT must be "json" or "text"; got \'yaml\'.' in result.stderr


def test_a_task_carries_the_id_of_the_request_that_queued_it(
    page_as, finance, sales, bill_in, run_tasks, settings
):
    """A send through the page queues the invoice email with the request's id; the worker's log
    lines for it carry that id (here: a failing mail server, whose attempt is logged)."""
    from django_tasks_db.models import DBTaskResult

    from bills.models import Status

    settings.MAILERS = {"default": {"BACKEND": "tests.bills.failing_mail.FailingBackend"}}
    bill = bill_in(Status.APPROVED)
    page_as(finance).post(f"/bills/{bill.pk}/send", headers={"X-Request-ID": "req-send-1"})
    [task] = DBTaskResult.objects.all()
    assert task.args_kwargs["kwargs"]["request_id"] == "req-send-1"
    stream, remove = _json_lines_of("bills.services.outbox")
    try:
        run_tasks()
    finally:
        remove()
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()][:1]
    assert line["request_id"] == "req-send-1" and "attempt 1 failed" in line["message"]
