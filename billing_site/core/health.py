"""Health endpoints for the proxy and the orchestrator (issue 12, "Several instances").

- `GET /health/live`: the process answers. No database, no check: 200 `{"status": "alive"}`.
- `GET /health/ready`: this instance can serve. django-health-check runs three checks at once:
  `database` (a `SELECT 1` on a fresh connection), `migrations` (no migration of the code is
  missing from the database) and `worker` (some worker's heartbeat is within
  WORKER_GONE_SECONDS). 200 `{"status": "ready", "checks": {name: "OK"}}` when all pass; 503
  `{"status": "unavailable", "checks": {...}}` naming each failure otherwise.

Both answer JSON, are public (accounts.middleware.OPEN_PREFIXES), never cached, and say nothing
secret: no host, user or driver message, only the check's own sentence.
"""

from __future__ import annotations

import asyncio
import dataclasses

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from billing_site.core.worker import workers_alive

DATABASE_UNREACHABLE = "database unreachable"
# Unapplied migrations named in the answer; more are counted, not listed.
LISTED_MIGRATIONS = 5


@dataclasses.dataclass
class DatabaseReachable(Database):
    """The library's `SELECT 1` on a fresh connection, answering only "database unreachable":
    its own message is the driver's first sentence, which can name the database's host. The
    library logs the failure with its cause."""

    def run(self) -> None:
        try:
            super().run()
        except ServiceUnavailable as error:
            raise ServiceUnavailable(DATABASE_UNREACHABLE) from error


@dataclasses.dataclass
class MigrationsApplied(HealthCheck):
    """Fails when a migration of the code is not recorded in django_migrations (a deployment
    that has not run `migrate` yet, or a newer instance's code against an older database).
    Runs on the request's own connection (thread_sensitive)."""

    async def run(self) -> None:
        await sync_to_async(self.probe)()

    def probe(self) -> None:
        """Raises ServiceUnavailable naming up to LISTED_MIGRATIONS unapplied ones
        ("app.name"), or saying the database is unreachable."""
        try:
            loader = MigrationLoader(connection, ignore_no_migrations=True)
        except DatabaseError as error:
            raise ServiceUnavailable(DATABASE_UNREACHABLE) from error
        # Every node of the graph, like `showmigrations` (squashed ones resolved by the loader):
        # a missing migration below an applied one counts too.
        unapplied = sorted(
            f"{app}.{name}"
            for app, name in loader.graph.nodes
            if (app, name) not in loader.applied_migrations
        )
        if unapplied:
            listed = ", ".join(unapplied[:LISTED_MIGRATIONS])
            more = len(unapplied) - LISTED_MIGRATIONS
            raise ServiceUnavailable(
                f"{len(unapplied)} unapplied migration(s): {listed}"
                + (f" and {more} more" if more > 0 else "")
            )


@dataclasses.dataclass
class WorkerHeartbeatRecent(HealthCheck):
    """Fails when no background worker (`manage.py run_worker`) has beaten within
    WORKER_GONE_SECONDS: emails and month ends would wait in the queue."""

    async def run(self) -> None:
        await sync_to_async(self.probe)()

    def probe(self) -> None:
        """Raises ServiceUnavailable when no worker is alive or the database is unreachable."""
        try:
            alive = workers_alive()
        except DatabaseError as error:
            raise ServiceUnavailable(DATABASE_UNREACHABLE) from error
        if not alive:
            raise ServiceUnavailable(
                f"no worker heartbeat in the last {settings.WORKER_GONE_SECONDS} seconds"
            )


# The name of each check in the answer.
CHECK_NAMES = {
    DatabaseReachable: "database",
    MigrationsApplied: "migrations",
    WorkerHeartbeatRecent: "worker",
}


class ReadyView(HealthCheckView):
    """GET /health/ready: the library's view (never cached, checks run concurrently with their
    timeouts), always answering JSON, and 503 rather than its 500 when a check fails: the
    instance is not broken, it is not ready."""

    checks = (DatabaseReachable, MigrationsApplied, WorkerHeartbeatRecent)

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            self.results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        failed = any(result.error for result in self.results)
        return self.render_to_response_json(503 if failed else 200)

    def render_to_response_json(self, status: int) -> JsonResponse:
        """{"status": "ready" | "unavailable", "checks": {name: "OK" | "Unavailable: why"}}."""
        checks = {
            CHECK_NAMES[type(result.check)]: str(result.error) if result.error else "OK"
            for result in self.results
        }
        return JsonResponse(
            {"status": "ready" if status == 200 else "unavailable", "checks": checks},
            status=status,
        )


@never_cache
@require_safe
def live(request: HttpRequest) -> JsonResponse:
    """GET /health/live: 200 {"status": "alive"} whenever the process can answer; it reads no
    database, so a database outage does not get the instance restarted."""
    return JsonResponse({"status": "alive"})
