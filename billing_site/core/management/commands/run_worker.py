"""`manage.py run_worker`: django-tasks-db's db_worker (same options) with a heartbeat thread
(billing_site.core.worker), so /health/ready knows a worker is alive and work a killed worker
left half done is settled by the others."""

from __future__ import annotations

import contextlib
import os

from django.db import DatabaseError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from billing_site.core.worker import HeartbeatThread, heartbeat_beat, heartbeat_forget


class Command(DbWorkerCommand):
    help = "Run the background worker (django-tasks-db's db_worker with a heartbeat)."

    def handle(self, *args, worker_id: str, **options) -> None:
        if options.get("reload") and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            # The reloader's parent only restarts the child, which beats under its own id.
            return super().handle(*args, worker_id=worker_id, **options)
        # The first beat before any task: a worker that cannot reach the database fails now.
        heartbeat_beat(worker_id)
        beat = HeartbeatThread(worker_id)
        beat.start()
        try:
            super().handle(*args, worker_id=worker_id, **options)
        finally:
            beat.stop()
            with contextlib.suppress(DatabaseError):
                heartbeat_forget(worker_id)
