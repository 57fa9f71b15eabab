"""The request id (issue 12, "Logs are structured ... with a request id carried into tasks"): one
short token per request, so the lines that several web instances and workers write about one
request can be read together.

- `RequestIdMiddleware` takes the proxy's `X-Request-ID` when it is sane (1 to 64 characters of
  `[A-Za-z0-9._-]`), else makes one (32 hex digits), and answers it in `X-Request-ID`.
- `RequestIdFilter` (on the log handler in settings.LOGGING) stamps `record.request_id` on every
  log record: the current id, "-" outside a request.
- A task receives the id as a keyword argument and runs its body in `with bound(request_id):`,
  so its lines carry the id of the request that enqueued it; `current()` gives it to pass on.

The id lives in a context variable: each thread (WSGI) and each task (ASGI) has its own.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.signals import request_finished

HEADER = "X-Request-ID"
# Safe to write into a log line and a response header as is: no spaces, quotes or newlines.
_SAFE = re.compile(r"[A-Za-z0-9._-]{1,64}")
NONE = "-"

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current() -> str | None:
    """The request id of the request (or the task block) being served; None outside one."""
    return _current.get()


@contextmanager
def bound(value: str | None) -> Iterator[str | None]:
    """Make `value` the current request id for the block (a task's body), then restore the one
    before. `value` is used as given (None for "no request"): the enqueuing request made it."""
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)


def accept(incoming: str | None) -> str:
    """`incoming` (an X-Request-ID header) when it is 1 to 64 characters of [A-Za-z0-9._-];
    otherwise a new id, 32 lowercase hex digits (uuid4). Never raises."""
    if incoming is not None and _SAFE.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Stamps `record.request_id` (the current id, "-" outside a request) on every record that
    reaches the handler; a record that already carries one (`extra={"request_id": ...}`) keeps
    it. Never filters a record out."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = _current.get() or NONE
        return True


class RequestIdMiddleware:
    """Gives each request its id (`request.request_id`, `current()`) and answers it in the
    `X-Request-ID` header.

    The id stays current until the response is closed (`request_finished`), not only while the
    middleware runs: Django logs a 4xx/5xx answer ("Unauthorized: /api/bills") after the
    middleware chain has returned, and that line belongs to the request too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accept(request.headers.get(HEADER))
        request.request_id = request_id
        _current.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


def _request_finished(**kwargs) -> None:
    """The response is closed: lines written from here on belong to no request."""
    _current.set(None)


request_finished.connect(_request_finished, dispatch_uid="billing_site.core.request_id")
