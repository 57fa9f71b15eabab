"""Work the background worker runs for a person (issue 12): a month end, a bulk send. What was
asked, how far it has got, and what came of it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class JobKind(models.TextChoices):
    GENERATE = "generate", "Month end"
    BULK_SEND = "bulk_send", "Bulk send"


class Job(models.Model):
    """One piece of background work asked for from the page or the API. A month end has its
    `year` and `month`, and `processed` of `total` counts customers; its `result` is the
    GenerationResult as the API gives it (created, skipped, skipped_reasons,
    skipped_customers). A bulk send has the bill ids and versions in `params`, counts bills,
    and its `result` is {results, counts} as the bulk API gives them. `error`: why it failed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=JobKind.choices)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    month = models.PositiveSmallIntegerField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total = models.PositiveIntegerField(null=True, blank=True)
    processed = models.PositiveIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The task that runs it and the worker running it (for settling after a worker dies).
    task_id = models.CharField(max_length=64, blank=True)
    worker_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kind", "year", "month", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}: {self.status}"

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)
