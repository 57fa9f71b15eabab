"""Background workers' heartbeat (issue 12): `manage.py run_worker` runs django-tasks-db's
worker with a thread that records, every WORKER_HEARTBEAT_SECONDS, that the process is alive,
then sends `worker_heartbeat` so apps can settle work a dead worker left half done (the outbox's
deliveries, month-end jobs). The core app knows no app above it: they listen to the signal."""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.db.models.functions import Now
from django.dispatch import Signal
from django.utils import timezone

from billing_site.core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

# Sent after each beat with `alive`: the set of worker ids seen within WORKER_GONE_SECONDS.
worker_heartbeat = Signal()


def workers_alive() -> set[str]:
    """Ids of the workers whose heartbeat is within WORKER_GONE_SECONDS (one query). Beats and
    this cutoff use the database's clock, so machines whose clocks disagree agree on it."""
    since = Now() - timedelta(seconds=settings.WORKER_GONE_SECONDS)
    return set(
        WorkerHeartbeat.objects.filter(seen_at__gte=since).values_list("worker_id", flat=True)
    )


def heartbeat_beat(worker_id: str) -> set[str]:
    """Record that `worker_id` (this process) is alive, then tell the listeners which workers
    are (worker_heartbeat). Returns the alive set. Raises DatabaseError when the database is
    unreachable (the caller logs it and beats again later)."""
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=Now())
    if not updated:
        WorkerHeartbeat.objects.bulk_create(
            [
                WorkerHeartbeat(
                    worker_id=worker_id,
                    hostname=socket.gethostname(),
                    pid=os.getpid(),
                    started_at=timezone.now(),
                    seen_at=timezone.now(),
                )
            ],
            ignore_conflicts=True,
        )
        WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=Now())
    alive = workers_alive()
    tasks_orphaned_fail(alive)
    worker_heartbeat.send(sender=WorkerHeartbeat, worker_id=worker_id, alive=alive)
    return alive


class WorkerGone(Exception):
    """The worker running a task stopped (killed, or its machine lost) before it finished."""


def tasks_orphaned_fail(alive: set[str]) -> int:
    """Mark failed (WorkerGone) every task still "running" on a worker that is not in `alive`,
    so a task never looks alive after its worker died; the apps' listeners then decide what to
    run again. Returns how many it marked."""
    from django_tasks_db.models import DBTaskResult

    marked = 0
    running = DBTaskResult.objects.filter(status="RUNNING").only("id", "worker_ids")
    for result in running[:1000]:
        if result.worker_ids and result.worker_ids[-1] not in alive:
            gone = WorkerGone(f"worker {result.worker_ids[-1]} stopped")
            # Only if it is still running: a task that finished meanwhile keeps its outcome.
            marked += DBTaskResult.objects.filter(pk=result.pk, status="RUNNING").update(
                status="FAILED",
                finished_at=timezone.now(),
                exception_class_path=f"{__name__}.WorkerGone",
                traceback=f"{WorkerGone.__name__}: {gone}",
                return_value=None,
            )
    return marked


def heartbeat_forget(worker_id: str) -> None:
    """A worker stopping cleanly removes its row: it is not 'gone', it left."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


class HeartbeatThread(threading.Thread):
    """Beats every WORKER_HEARTBEAT_SECONDS until `stop()`; a beat that fails is logged and
    retried at the next interval (the worker keeps running through a database restart)."""

    def __init__(self, worker_id: str) -> None:
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                close_old_connections()
                heartbeat_beat(self.worker_id)
            except DatabaseError:
                logger.warning("Worker %s could not record its heartbeat", self.worker_id)
            except Exception:  # a listener's bug must not stop the heartbeat
                logger.exception("A heartbeat listener failed")
            self.stopped.wait(settings.WORKER_HEARTBEAT_SECONDS)
        connection.close()

    def stop(self) -> None:
        self.stopped.set()
