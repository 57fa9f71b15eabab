"""Login limits that neither leak nor lock out: per (name, address), per address, and a per-name
ceiling that alerts and spares the addresses the user logged in from. Counted in the database,
so every worker and every connection sees the same attempts."""

from __future__ import annotations

import logging
import threading

import pytest
from django.db import connection
from django.test import Client

from accounts.models import Role
from accounts.throttles import attempt_wait
from tests.factories import PASSWORD, UserFactory


def _login(address: str, password: str = "wrong guess") -> int:
    client = Client(REMOTE_ADDR=address)
    body = {"name": "fiona", "password": password}
    return client.post("/api/session", body, content_type="application/json").status_code


def test_a_stranger_is_throttled_for_the_name_and_the_owner_still_logs_in(db, throttle_rates):
    throttle_rates(login_name_address="3/min", login_address="100/min", login_name="100/hour")
    UserFactory(name="fiona", role=Role.FINANCE)
    stranger = [_login("203.0.113.9") for _ in range(5)]
    assert stranger == [401, 401, 401, 429, 429]
    assert _login("198.51.100.7", PASSWORD) == 200
    assert _login("203.0.113.9", PASSWORD) == 429  # the stranger's own budget is spent


def test_one_address_is_throttled_across_names(db, throttle_rates):
    throttle_rates(login_address="4/min", login_name_address="10/min")
    client = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [
        client.post(
            "/api/session", {"name": f"user{i}", "password": "x"}, content_type="application/json"
        ).status_code
        for i in range(6)
    ]
    assert statuses == [401, 401, 401, 401, 429, 429]


def test_the_name_ceiling_alerts_and_spares_the_owners_known_address(db, throttle_rates, caplog):
    throttle_rates(login_name_address="10/min", login_address="100/min", login_name="4/hour")
    UserFactory(name="fiona", role=Role.FINANCE)
    assert _login("198.51.100.7", PASSWORD) == 200  # the owner's usual address
    guesses = [_login(f"203.0.113.{i}") for i in range(1, 6)]
    assert guesses == [401, 401, 401, 429, 429]
    assert [r.levelno for r in caplog.records if r.name == "accounts.throttles"] == [
        logging.WARNING,
        logging.WARNING,
    ]
    assert _login("192.0.2.50", PASSWORD) == 429  # an address fiona never used
    assert _login("198.51.100.7", PASSWORD) == 200  # her own still lets her in


def test_the_forwarded_address_counts_behind_a_trusted_proxy(db, settings, throttle_rates):
    throttle_rates(login_name_address="2/min", login_address="100/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    UserFactory(name="fiona", role=Role.FINANCE)

    def via_proxy(client_ip: str, password: str = "nope") -> int:
        client = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=client_ip)
        body = {"name": "fiona", "password": password}
        return client.post("/api/session", body, content_type="application/json").status_code

    assert [via_proxy("203.0.113.9") for _ in range(3)] == [401, 401, 429]
    assert via_proxy("198.51.100.7", PASSWORD) == 200


@pytest.mark.django_db(transaction=True)
def test_simultaneous_attempts_on_separate_connections_get_at_most_the_limit(throttle_rates):
    throttle_rates(login_name_address="5/min")
    results: list[int] = []
    barrier = threading.Barrier(12)

    def attempt():
        try:
            barrier.wait()
            results.append(attempt_wait("login_name_address", "fiona\x00203.0.113.9"))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wait == 0 for wait in results) == [False] * 7 + [True] * 5
