"""Month ends and bulk sends as jobs (issue 12): what a dead worker leaves is settled with the
message of its kind, and only then."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from billing_site.core.errors import DomainError
from bills.models import Job, JobKind, JobStatus
from bills.services.jobs import WORKER_STOPPED, bulk_send_start, generation_start, jobs_settle
from tests.factories import MONTH, YEAR

pytestmark = pytest.mark.django_db


def test_a_job_running_on_a_dead_worker_fails_with_its_kinds_message(finance):
    month_end = generation_start(year=YEAR, month=MONTH, user=finance)
    bulk = bulk_send_start(user=finance, bill_ids=[1])
    Job.objects.update(status=JobStatus.RUNNING, worker_id="dead")
    assert jobs_settle(alive={"alive"}) == 2
    month_end.refresh_from_db()
    bulk.refresh_from_db()
    assert (month_end.status, month_end.error) == (JobStatus.FAILED, WORKER_STOPPED["generate"])
    assert "Nothing was made" in month_end.error
    assert (bulk.status, bulk.error) == (JobStatus.FAILED, WORKER_STOPPED["bulk_send"])
    assert "sent stay sent" in bulk.error


def test_a_job_on_a_live_worker_or_with_a_waiting_task_is_left_alone(finance):
    running = generation_start(year=YEAR, month=MONTH, user=finance)
    Job.objects.filter(pk=running.pk).update(status=JobStatus.RUNNING, worker_id="alive")
    queued = bulk_send_start(user=finance, bill_ids=[1])
    Job.objects.filter(pk=queued.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert jobs_settle(alive={"alive"}) == 0  # its task is still ready to run
    DBTaskResult.objects.filter(pk=queued.task_id).update(status="FAILED")
    assert jobs_settle(alive={"alive"}) == 1
    queued.refresh_from_db()
    assert (queued.status, queued.error) == (JobStatus.FAILED, WORKER_STOPPED[JobKind.BULK_SEND])
    running.refresh_from_db()
    assert running.status == JobStatus.RUNNING


def test_starting_is_refused_before_anything_is_queued(sales, finance):
    with pytest.raises(DomainError) as caught:
        generation_start(year=YEAR, month=MONTH, user=sales)
    assert caught.value.kind == "forbidden"
    with pytest.raises(DomainError) as caught:
        bulk_send_start(user=sales, bill_ids=[1])
    assert caught.value.kind == "forbidden"
    assert not Job.objects.exists() and not DBTaskResult.objects.exists()
