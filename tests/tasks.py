"""Running the background tasks a test queued, in this process and this test's transaction,
the way `manage.py run_worker` runs them (django-tasks-db's Worker.run_task)."""

from __future__ import annotations

from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

WORKER_ID = "test-worker"


def tasks_run(*, worker_id: str = WORKER_ID, limit: int = 10_000, check: bool = True) -> int:
    """Run every task that is ready now (run_after passed), including those the tasks queue,
    until none is left. Returns how many ran. With `check`, a task that raised fails the test
    with its traceback."""
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    ran = 0
    while ran < limit:
        result = DBTaskResult.objects.ready().first()
        if result is None:
            return ran
        result.claim(worker_id)
        worker.run_task(result)
        ran += 1
        if check:
            result.refresh_from_db()
            assert result.status != "FAILED", result.traceback
    raise AssertionError(f"more than {limit} tasks: a task queues itself forever?")
