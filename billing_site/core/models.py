"""The site's own bookkeeping: which background workers are alive (issue 12)."""

from django.db import models
from django.utils import timezone


class WorkerHeartbeat(models.Model):
    """One row per worker process (`manage.py run_worker`), touched every
    WORKER_HEARTBEAT_SECONDS. A worker whose `seen_at` is older than WORKER_GONE_SECONDS is
    gone: /health/ready reports it, and the outbox settles the deliveries it left half done."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"worker {self.worker_id} on {self.hostname} (pid {self.pid})"
