"""Browser tests: system Chromium through pytest-playwright, against pytest-django's live server.

Without /usr/bin/chromium these tests are skipped, unless REQUIRE_BROWSER is set (as in CI):
then a missing browser fails the run instead of quietly skipping it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from billing_site.core import periods
from bills.services import bill_approve, bill_reject
from tests.factories import CustomerFactory, UsageFactory, make_bill

CHROMIUM = "/usr/bin/chromium"
EVIL = "<img src=x onerror=alert(1)>Evil Corp"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`."
        if _browser_required():
            pytest.fail(f"REQUIRE_BROWSER is set but {message}", pytrace=False)
        pytest.skip(f"Browser tests need Chromium; {message}")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    return {
        **browser_context_args,
        "base_url": live_server.url,
        "viewport": {"width": 1280, "height": 860},
        "locale": "en-US",
        "timezone_id": "UTC",
    }


@pytest.fixture
def console_problems():
    """What the browser reported; a test that provokes an error response removes what it expects."""
    return []


@pytest.fixture
def page(page, console_problems):
    """The page, failing the test on any console error, uncaught exception or dialog."""
    problems = console_problems
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_dialog(dialog):
        problems.append(f"dialog opened: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.set_default_timeout(5000)
    yield page
    assert problems == [], f"the browser reported problems: {problems}"


@pytest.fixture
def login(page, live_server):
    """login(user): the browser gets a session for the user, without typing a password."""

    def do(user):
        client = Client()
        client.force_login(user)
        page.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )

    return do


@pytest.fixture
def shot(page):
    """shot(name): a full-page screenshot in test-artifacts/screenshots/ (not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str, *, full_page: bool = True):
        # caret="initial": hiding the caret injects a <style>, which the site's CSP refuses.
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page, caret="initial")

    return take


@pytest.fixture
def demo(finance, sales, csm, other_csm):
    """A small book of customers with a year of usage, and bills in every state."""
    year, month = periods.last_ended_month()
    acme = CustomerFactory(name="Acme Corp", csm=csm, monthly_api_limit=1_000_000)
    y, m = periods.today().year, periods.today().month
    for i in range(14):
        UsageFactory(customer=acme, year=y, month=m, api_usage=600_000 + (i * 97_000) % 900_000)
        y, m = periods.previous_month(y, m)
    evil = CustomerFactory(name=EVIL, csm=other_csm, require_csm_approval=True)
    globex = CustomerFactory(name="Globex", csm=None, overage_unit_cost="0.0011")
    for i in range(6):
        CustomerFactory(name=f"Initech {i}", csm=csm if i % 2 else other_csm)
    bills = {
        "acme": make_bill(customer=acme, finance=finance, api_usage=1_420_000),
        "evil": make_bill(customer=evil, finance=finance, api_usage=3_100_000),
        "globex": make_bill(customer=globex, finance=finance, api_usage=1_000_401),
    }
    bill_approve(bill=bills["globex"], user=sales)
    py, pm = periods.previous_month(year, month)
    old = make_bill(customer=acme, finance=finance, year=py, month=pm, api_usage=1_900_000)
    bill_reject(bill=old, user=csm, comment="Migration traffic; agreed to waive.")
    return {"customers": {"acme": acme, "evil": evil}, "bills": bills}


@pytest.fixture(autouse=True)
def worker(live_server):
    """The background worker beside the live server, in this process (a thread with its own
    database connection), so a month end or a send clicked in the browser is carried out and
    its emails land in django.core.mail.outbox. The real worker process is tested in
    tests/billing_site/test_worker_process.py and test_two_instances.py."""
    import threading

    from django.db import connection

    from tests.tasks import tasks_run

    stop = threading.Event()

    def run():
        try:
            while not stop.is_set():
                if not tasks_run(check=False):
                    stop.wait(0.25)  # light on the live server it shares the process with
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="e2e-worker", daemon=True)
    thread.start()
    yield thread
    stop.set()
    thread.join(timeout=30)


def eventually(check, *, timeout: float = 15.0) -> None:
    """Wait until `check()` is true (what the worker thread does takes a moment)."""
    import time

    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the worker did not get there in time"
        time.sleep(0.05)
