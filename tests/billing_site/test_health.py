"""/health/live and /health/ready (issue 12, "Several instances"): live answers whenever the
process does; ready answers 200 only when the database answers, every migration is applied and a
worker's heartbeat is recent, and 503 naming what failed otherwise. Public, JSON, never cached."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from billing_site.core.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db

ALL_OK = {"database": "OK", "migrations": "OK", "worker": "OK"}


def _heartbeat(seconds_ago: float) -> WorkerHeartbeat:
    return WorkerHeartbeat.objects.create(
        worker_id="w-probe",
        hostname="worker-host.internal",
        pid=4242,
        seen_at=timezone.now() - timedelta(seconds=seconds_ago),
    )


@pytest.fixture
def database_down(monkeypatch):
    """New connections are refused, as when the database is down (the health check's own probe
    opens one); the test's open connection is left alone."""

    def refuse(self, conn_params):
        raise self.Database.OperationalError(
            'connection to server at "db.internal" (10.0.0.5), port 5432 failed: '
            'password authentication failed for user "billing"'
        )

    monkeypatch.setattr(type(connections["default"]), "get_new_connection", refuse)


def _never_cached(response) -> None:
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert "max-age=0" in response["Cache-Control"]


def test_live_answers_without_login_or_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "alive"}
    _never_cached(response)


def test_live_answers_while_the_database_is_down(client, database_down):
    assert client.get("/health/live").status_code == 200


def test_ready_is_200_with_a_fresh_heartbeat(client, settings):
    _heartbeat(seconds_ago=settings.WORKER_GONE_SECONDS - 5)
    response = client.get("/health/ready")  # anonymous: the proxy has no login
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ready", "checks": ALL_OK}
    _never_cached(response)


@pytest.mark.parametrize("seconds_ago", [None, 65], ids=["no worker ever", "worker gone"])
def test_ready_is_503_naming_the_worker_without_a_recent_heartbeat(client, settings, seconds_ago):
    settings.WORKER_GONE_SECONDS = 60
    if seconds_ago is not None:
        _heartbeat(seconds_ago=seconds_ago)
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {
            **ALL_OK,
            "worker": "Unavailable: no worker heartbeat in the last 60 seconds",
        },
    }
    _never_cached(response)


def test_ready_is_503_naming_an_unapplied_migration(client):
    _heartbeat(seconds_ago=0)
    # The app's first migration, below applied ones: a check of the leaf nodes only would miss it.
    MigrationRecorder(connection).record_unapplied("accounts", "0001_initial")
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        **ALL_OK,
        "migrations": "Unavailable: 1 unapplied migration(s): accounts.0001_initial",
    }


def test_ready_lists_a_few_unapplied_migrations_and_counts_the_rest(client):
    _heartbeat(seconds_ago=0)
    MigrationRecorder.Migration.objects.filter(app="auth").delete()
    message = client.get("/health/ready").json()["checks"]["migrations"]
    count = int(message.removeprefix("Unavailable: ").split(" ")[0])
    assert count > 5
    assert message.endswith(f" and {count - 5} more")
    assert message.count("auth.") == 5


def test_ready_is_503_when_the_database_is_unreachable_and_says_nothing_secret(
    client, database_down
):
    _heartbeat(seconds_ago=0)
    response = client.get("/health/ready")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "Unavailable: database unreachable"
    assert checks["migrations"] == checks["worker"] == "OK"  # they use the open connection
    for secret in ("db.internal", "10.0.0.5", "password", "billing", "worker-host", "4242"):
        assert secret not in response.content.decode()
