"""Month ends and bulk sends as background work (issue 12; SPEC "Bill lifecycle": created,
sent). The page and the API start one (`generation_start`, `bulk_send_start`: a Job and its
task, in one transaction); the worker runs it (`generation_run`: services.generation.
bill_generate, one transaction, reporting progress on its own connection; `bulk_send_run`:
services.bulk.bulk_apply, a transaction per bill); Finance reads it (`job_get`).
Two starts of one month share the job already queued or running; two that slip past each other
still queue on the month's lock, and the second bills nobody twice (bill_generate skips what
is billed)."""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Perm, require
from billing_site.core import request_id
from billing_site.core.errors import DomainError
from bills.models import Job, JobKind, JobStatus
from bills.services.generation import GenerationResult, SkippedCustomer, bill_generate
from bills.services.lifecycle import billable_period, period_lock

logger = logging.getLogger(__name__)

WORKER_STOPPED = {
    JobKind.GENERATE: "The worker running it stopped before it finished. Nothing was made (a "
    "month end is one transaction); start it again.",
    JobKind.BULK_SEND: "The worker running it stopped before it finished. The bills it had "
    "sent stay sent, each with its invoice email queued; send the rest again (sent bills are "
    "skipped).",
}


def generation_start(*, year: int, month: int, user: User) -> Job:
    """Queue the month end of a month that has ended; returns its job. A generation of that
    month already queued or running is returned instead of a second one.

    Raises DomainError: forbidden (not Finance); invalid naming "year"/"month"."""
    require(user, Perm.GENERATE_BILLS)
    year, month = billable_period(year, month)
    from bills.tasks import bill_generate_task  # the task module imports this one

    with transaction.atomic():
        period_lock(year, month)  # two starts of a month at once: one job
        active = Job.objects.filter(
            kind=JobKind.GENERATE,
            year=year,
            month=month,
            status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
        ).first()
        if active is not None:
            return active
        job = Job.objects.create(kind=JobKind.GENERATE, year=year, month=month, created_by=user)
        result = bill_generate_task.enqueue(job_id=str(job.pk), request_id=request_id.current())
        job.task_id = str(result.id)
        job.save(update_fields=["task_id"])
    return job


# Who may read a job: who may start it.
JOB_PERMS = {JobKind.GENERATE: Perm.GENERATE_BILLS, JobKind.BULK_SEND: Perm.SEND_BILL}


def job_get(*, job_id, user: User) -> Job:
    """One job, for a user whose role may start its kind (Finance). Raises DomainError:
    forbidden; not_found (no such job, or an id that is not a UUID)."""
    require(user, Perm.SEND_BILL)  # every kind is Finance's; the kind's own perm below
    job = Job.objects.filter(pk=job_id).first() if _is_uuid(job_id) else None
    if job is None:
        raise DomainError(f"No job has id {job_id}.", kind="not_found")
    require(user, JOB_PERMS[job.kind])
    return job


def bulk_send_start(*, user: User, bill_ids: list[int], versions: dict | None = None) -> Job:
    """Queue a bulk send of `bill_ids` (services.bulk.bulk_apply, action "send", with the
    `versions` the confirmation showed); returns its job. What bulk_apply refuses before
    writing anything is refused here, now: DomainError forbidden (not Finance), invalid naming
    "ids" (bulk_preview's checks)."""
    from bills.services.bulk import bulk_preview
    from bills.tasks import bulk_send_task

    preview = bulk_preview(user=user, action="send", bill_ids=bill_ids)
    ids = [item.id for item in preview.items]
    with transaction.atomic():
        job = Job.objects.create(
            kind=JobKind.BULK_SEND,
            params={"ids": ids, "versions": {str(k): v for k, v in (versions or {}).items()}},
            total=len(ids),
            created_by=user,
        )
        result = bulk_send_task.enqueue(job_id=str(job.pk), request_id=request_id.current())
        job.task_id = str(result.id)
        job.save(update_fields=["task_id"])
    return job


def _job_claim(job_id: str, worker_id: str) -> Job | None:
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != JobStatus.QUEUED:
            return None
        job.status = JobStatus.RUNNING
        job.worker_id = worker_id
        job.started_at = timezone.now()
        job.save(update_fields=["status", "worker_id", "started_at"])
    return job


def bulk_send_run(*, job_id: str, worker_id: str) -> str:
    """Run a queued bulk send (the worker's task body): each bill sent in its own transaction
    as the user who asked, `processed` going up after each. Returns the job's final status."""
    from bills.services.bulk import bulk_apply, bulk_counts

    job = _job_claim(job_id, worker_id)
    if job is None:
        return "skipped"

    def counted(processed: int, total: int) -> None:
        Job.objects.filter(pk=job.pk).update(processed=processed, total=total)

    try:
        outcomes = bulk_apply(
            user=job.created_by,
            action="send",
            bill_ids=job.params["ids"],
            versions={int(k): v for k, v in job.params.get("versions", {}).items()},
            counted=counted,
        )
    except DomainError as error:
        return _finish(job, status=JobStatus.FAILED, error=error.message)
    result = {
        "results": [o.as_dict() for o in outcomes],
        "counts": bulk_counts(action="send", outcomes=outcomes),
    }
    return _finish(job, status=JobStatus.SUCCEEDED, result=result, processed=len(outcomes))


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def generation_result_of(job: Job) -> GenerationResult | None:
    """The result a succeeded job keeps, as bill_generate returned it (bill_ids aside);
    None before it has succeeded."""
    if job.status != JobStatus.SUCCEEDED or not job.result:
        return None
    data = job.result
    return GenerationResult(
        created=data["created"],
        skipped=data["skipped"],
        skipped_reasons=data["skipped_reasons"],
        bill_ids=[],
        skipped_customers={
            reason: [SkippedCustomer(c["id"], c["name"]) for c in found]
            for reason, found in data["skipped_customers"].items()
        },
    )


def result_as_dict(result: GenerationResult) -> dict:
    """A GenerationResult as the job (and the API) keeps it: JSON values only."""
    data = asdict(result)
    data.pop("bill_ids", None)
    data["skipped_customers"] = {
        reason: [{"id": c.id, "name": c.name} for c in found]
        for reason, found in result.skipped_customers.items()
    }
    return data


class ProgressWriter:
    """Writes a job's progress on a connection of its own (a thread's), so the page sees it
    while the generation's transaction is still open. Keeps only the latest figure; on SQLite
    (one writer at a time) it writes nothing until the end."""

    def __init__(self, job_id) -> None:
        self.job_id = job_id
        self.latest: queue.Queue = queue.Queue()
        self.enabled = connection.vendor == "postgresql"
        self.thread = threading.Thread(target=self._run, daemon=True)
        if self.enabled:
            self.thread.start()

    def __call__(self, processed: int, total: int) -> None:
        if self.enabled:
            self.latest.put((processed, total))

    def _run(self) -> None:
        from django.db import connection as own

        try:
            while True:
                item = self.latest.get()
                while not self.latest.empty():  # only the latest figure matters
                    item = self.latest.get_nowait()
                if item is None:
                    return
                processed, total = item
                Job.objects.filter(pk=self.job_id).update(processed=processed, total=total)
        except Exception:
            logger.exception("Progress of generation %s could not be written", self.job_id)
        finally:
            own.close()

    def close(self) -> None:
        if self.enabled:
            self.latest.put(None)
            self.thread.join(timeout=30)


def generation_run(*, job_id: str, worker_id: str) -> str:
    """Run a queued generation job (the worker's task body): mark it running (committed),
    run bill_generate as the user who asked, with progress, and record the result or the
    error. Returns the job's final status; a job not queued is left alone ("skipped")."""
    job = _job_claim(job_id, worker_id)
    if job is None:
        return "skipped"
    writer = ProgressWriter(job.pk)
    try:
        result = bill_generate(year=job.year, month=job.month, user=job.created_by, counted=writer)
    except DomainError as error:
        writer.close()
        return _finish(job, status=JobStatus.FAILED, error=error.message)
    except Exception as error:
        writer.close()
        logger.exception("Generation %s failed", job.pk)
        return _finish(job, status=JobStatus.FAILED, error=f"{type(error).__name__}: {error}")
    writer.close()
    total = result.created + result.skipped
    return _finish(job, status=JobStatus.SUCCEEDED, result=result_as_dict(result), processed=total)


def _finish(job: Job, *, status: str, **fields) -> str:
    Job.objects.filter(pk=job.pk).update(status=status, finished_at=timezone.now(), **fields)
    if "processed" in fields:
        Job.objects.filter(pk=job.pk).update(total=fields["processed"])
    return status


def jobs_settle(*, alive: set[str]) -> int:
    """What the heartbeat does for jobs (billing_site.core.worker): a job running on a worker no
    longer alive, or queued with a task that is no longer waiting or running, is failed with
    its kind's WORKER_STOPPED (a month end's transaction never committed, so nothing was made;
    a bulk send's bills that were sent stay sent). Returns how many it settled."""
    from django_tasks_db.models import DBTaskResult

    settled = 0
    for kind, message in WORKER_STOPPED.items():
        settled += (
            Job.objects.filter(kind=kind, status=JobStatus.RUNNING)
            .exclude(worker_id__in=alive)
            .update(status=JobStatus.FAILED, error=message, finished_at=timezone.now())
        )
    overdue = timezone.now() - timedelta(seconds=settings.WORKER_GONE_SECONDS)
    queued = Job.objects.filter(status=JobStatus.QUEUED, created_at__lt=overdue)
    for job in queued[:100]:
        waiting = DBTaskResult.objects.filter(
            pk=job.task_id, status__in=["READY", "RUNNING"]
        ).exists()
        if not waiting:
            settled += Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
                status=JobStatus.FAILED,
                error=WORKER_STOPPED[job.kind],
                finished_at=timezone.now(),
            )
    return settled
