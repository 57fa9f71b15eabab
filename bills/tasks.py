"""The billing desk's background tasks (Django's tasks framework, run by `manage.py
run_worker`; issue 12). Each takes the request id of the request that queued it, so the
worker's log lines carry it."""

from __future__ import annotations

from django.tasks import TaskContext, task

from billing_site.core import request_id as request_ids
from bills.services import jobs, outbox


def _worker_id(context: TaskContext) -> str:
    worker_ids = context.task_result.worker_ids
    return worker_ids[-1] if worker_ids else "unknown"


@task(takes_context=True)
def document_deliver_task(
    context: TaskContext, *, delivery_id: int, request_id: str | None = None
) -> str:
    """Deliver one queued email of the outbox (services.outbox.delivery_attempt); returns the
    delivery's status after this attempt."""
    with request_ids.bound(request_id):
        return outbox.delivery_attempt(delivery_id=delivery_id, worker_id=_worker_id(context))


@task(takes_context=True)
def bill_generate_task(context: TaskContext, *, job_id: str, request_id: str | None = None) -> str:
    """Run one month end (services.jobs.generation_run); returns the job's final status."""
    with request_ids.bound(request_id):
        return jobs.generation_run(job_id=job_id, worker_id=_worker_id(context))


@task(takes_context=True)
def bulk_send_task(context: TaskContext, *, job_id: str, request_id: str | None = None) -> str:
    """Run one bulk send (services.jobs.bulk_send_run); returns the job's final status."""
    with request_ids.bound(request_id):
        return jobs.bulk_send_run(job_id=job_id, worker_id=_worker_id(context))
