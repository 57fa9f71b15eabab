"""The email outbox run by the real worker process (issue 12, "Background work on Django's tasks
framework"): `manage.py run_worker` subprocesses on the test database deliver a sent bill's
invoice, and a worker SIGKILLed in the middle of a delivery never makes the customer get it
twice ("test it by killing the worker mid-delivery"):
- killed after the mail server accepted the email: the survivor reports the delivery failed
  with the outcome unknown (it may have arrived) and the killed task failed, and sends nothing;
- killed after the claim but before the mail server got the email: the same, by design (at
  most once: a claimed attempt's outcome cannot be known), and a resend delivers it once;
- killed before the claim: the survivor queues the delivery again and delivers it once;
- a mail server that refuses: retried with backoff, then failed after the limit.

The worker's "mail server" is a file (tests/billing_site/worker_mail.py). The data the worker
reads must be committed, hence transactional tests (PostgreSQL only, like the gunicorn tests).
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from billing_site.core.models import WorkerHeartbeat
from bills.models import Action, Delivery, DeliveryStatus, Invoice, Status
from bills.services import bill_send
from bills.services.outbox import OUTCOME_UNKNOWN, delivery_resend
from tests.factories import CustomerFactory
from tests.processes import Processes

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL (DATABASE_URL): the workers share the test database",
    ),
]

MAILBOX_BACKEND = "tests.billing_site.worker_mail.MailboxBackend"
FAILING_BACKEND = "tests.bills.failing_mail.FailingBackend"


class Workers(Processes):
    """`manage.py run_worker` subprocesses on the test database (tests/processes.py), their
    email going to a JSON-lines mailbox (tests/billing_site/worker_mail.py)."""

    def __init__(self, tmp_path: Path):
        self.mailbox = tmp_path / "mailbox.jsonl"
        super().__init__(tmp_path, EMAIL_BACKEND=MAILBOX_BACKEND, TEST_MAILBOX=str(self.mailbox))

    def start(self, worker_id: str, **env: str) -> subprocess.Popen:
        """Start a worker with id `worker_id` and these extra environment variables; returns
        once it has recorded its first heartbeat."""
        return self.start_worker(worker_id, **env)

    def emails(self) -> list[dict]:
        """What the mailbox backend accepted so far, oldest first."""
        if not self.mailbox.exists():
            return []
        return [json.loads(line) for line in self.mailbox.read_text().splitlines()]


@pytest.fixture
def workers(transactional_db, tmp_path):
    started = Workers(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture
def delivery(bill_in, finance) -> Delivery:
    """The queued delivery of an invoice just sent (committed) through the service."""
    customer = CustomerFactory(name="Globex", billing_email="ap@globex.example")
    bill = bill_send(bill=bill_in(Status.APPROVED, customer=customer), user=finance)
    return Delivery.objects.get(bill=bill)


def _settled(delivery: Delivery):
    delivery.refresh_from_db()
    return delivery.status not in (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)


def _outbox_rows(delivery: Delivery) -> list:
    """The bill's history rows from its send on: (action, comment, from, to)."""
    rows = list(delivery.bill.actions.order_by("id"))
    sent = max(i for i, row in enumerate(rows) if row.action == Action.SENT)
    return [(r.action, r.comment, r.from_status, r.to_status) for r in rows[sent + 1 :]]


def _tasks(delivery: Delivery) -> list[DBTaskResult]:
    """The delivery's tasks, oldest first."""
    return [
        task
        for task in DBTaskResult.objects.order_by("enqueued_at")
        if task.args_kwargs["kwargs"].get("delivery_id") == delivery.pk
    ]


def _running_on(worker_id: str, delivery: Delivery) -> bool:
    return any(t.status == "RUNNING" and t.worker_ids == [worker_id] for t in _tasks(delivery))


def _assert_outcome_unknown(workers: Workers, delivery: Delivery) -> None:
    """The delivery A held is failed with the doubt, in its history too, and A's task failed."""
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.last_error == OUTCOME_UNKNOWN
    rows = _outbox_rows(delivery)
    assert [row[0] for row in rows] == [Action.EMAIL_QUEUED, Action.EMAIL_FAILED], workers.logs()
    assert OUTCOME_UNKNOWN in rows[-1][1]
    assert all(row[2] == row[3] == Status.SENT for row in rows)
    [task] = _tasks(delivery)
    assert (task.status, task.worker_ids) == ("FAILED", ["worker-a"])
    assert task.exception_class_path == "billing_site.core.worker.WorkerGone"


def test_the_worker_delivers_a_sent_invoice_once(workers, delivery):
    workers.start("worker-a")
    workers.until(lambda: _settled(delivery), "the delivery")
    assert delivery.status == DeliveryStatus.DELIVERED, workers.logs()
    [email] = workers.emails()
    assert email["to"] == ["ap@globex.example"]
    assert email["delivery_key"] == str(delivery.key)
    assert str(delivery.key) in email["message_id"]
    assert delivery.invoice.number in email["subject"]
    assert Invoice.objects.get(pk=delivery.invoice_id).delivered_at == delivery.delivered_at
    rows = _outbox_rows(delivery)
    assert [row[0] for row in rows] == [Action.EMAIL_QUEUED, Action.EMAIL_DELIVERED]
    assert "delivered to ap@globex.example" in rows[-1][1]
    [task] = _tasks(delivery)
    assert (task.status, task.return_value, task.worker_ids) == (
        "SUCCESSFUL",
        "delivered",
        ["worker-a"],
    )


def test_a_worker_killed_after_the_mail_server_took_the_email_never_sends_it_twice(
    workers, delivery
):
    workers.start("worker-a", TEST_MAIL_STALL="after")
    workers.until(workers.emails, "worker A to hand the email to the mail server")
    workers.until(lambda: Path(f"{workers.mailbox}.stalled").exists(), "worker A's stall")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.claimed_by) == (DeliveryStatus.SENDING, "worker-a")
    workers.kill("worker-a")  # between SMTP and recording

    workers.start("worker-b")
    workers.until(lambda: _settled(delivery), "worker B to settle worker A's delivery")
    [email] = workers.emails()
    assert email["delivery_key"] == str(delivery.key)
    _assert_outcome_unknown(workers, delivery)
    # Two more heartbeats of B later, nothing has sent the delivery again.
    _beats(workers, "worker-b", 2)
    assert len(workers.emails()) == 1
    assert [t.status for t in _tasks(delivery)] == ["FAILED"]


def test_a_worker_killed_after_its_claim_reports_the_outcome_unknown_and_a_resend_delivers(
    workers, delivery, finance
):
    # Killed before the mail server got the email, but after the attempt was claimed: the
    # claim ("sending", committed) comes before the call to the mail server, so the survivor
    # cannot tell this kill from one after SMTP accepted the email. At most once is the design:
    # the delivery is reported failed with the doubt, never retried by itself, and Finance
    # resends after checking the mail server's log.
    workers.start("worker-a", TEST_MAIL_STALL="before")
    workers.until(lambda: Path(f"{workers.mailbox}.stalled").exists(), "worker A's stall")
    workers.kill("worker-a")

    workers.start("worker-b")
    workers.until(lambda: _settled(delivery), "worker B to settle worker A's delivery")
    _assert_outcome_unknown(workers, delivery)
    assert workers.emails() == []

    resent = delivery_resend(bill=delivery.bill_id, user=finance)
    workers.until(lambda: _settled(resent), "worker B to deliver the resend")
    assert resent.status == DeliveryStatus.DELIVERED, workers.logs()
    [email] = workers.emails()
    assert email["delivery_key"] == str(resent.key) != str(delivery.key)


def test_a_worker_killed_before_its_claim_leaves_the_delivery_to_another(workers, delivery):
    # The test holds the delivery's row lock, so worker A takes the task ("running") and then
    # waits in the claim; killed there, the delivery is still "queued" and its task will never
    # finish. The survivor marks the task failed and queues the delivery again (its
    # next_attempt_at is older than WORKER_GONE_SECONDS by then).
    with transaction.atomic():
        Delivery.objects.select_for_update().get(pk=delivery.pk)
        workers.start("worker-a")
        workers.until(lambda: _running_on("worker-a", delivery), "worker A to take the task")
        workers.until(_someone_waits_for_a_lock, "worker A to wait for the delivery's lock")
        workers.kill("worker-a")

    workers.start("worker-b")
    workers.until(lambda: _settled(delivery), "worker B to deliver the delivery again")
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1), workers.logs()
    [email] = workers.emails()
    assert email["delivery_key"] == str(delivery.key)
    rows = _outbox_rows(delivery)
    assert [row[0] for row in rows] == [Action.EMAIL_QUEUED, Action.EMAIL_DELIVERED]
    first, second = _tasks(delivery)
    assert (first.status, first.worker_ids) == ("FAILED", ["worker-a"])
    assert (second.status, second.worker_ids) == ("SUCCESSFUL", ["worker-b"])


def _beats(workers: Workers, worker_id: str, count: int) -> None:
    """Wait until `worker_id` has beaten `count` more times (heartbeat rows, 1 s apart)."""
    later = timezone.now() + timedelta(seconds=count - 0.5)
    beat = WorkerHeartbeat.objects.filter(worker_id=worker_id, seen_at__gte=later)
    workers.until(beat.exists, f"{count} more heartbeats of {worker_id}", timeout=count + 10)


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_a_mail_server_that_refuses_fails_the_delivery_after_the_limit(workers, delivery):
    workers.start(
        "worker-a",
        EMAIL_BACKEND=FAILING_BACKEND,
        DELIVERY_BACKOFF_SECONDS="0.2",
        DELIVERY_MAX_ATTEMPTS="3",
    )
    workers.until(lambda: _settled(delivery), "the delivery to fail")
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3), workers.logs()
    assert "ConnectionRefusedError: mail server refused the connection" in delivery.last_error
    rows = _outbox_rows(delivery)
    assert [row[0] for row in rows] == [
        Action.EMAIL_QUEUED,
        Action.EMAIL_RETRY,
        Action.EMAIL_RETRY,
        Action.EMAIL_FAILED,
    ]
    assert "Attempt 1 of 3" in rows[1][1] and "Attempt 2 of 3" in rows[2][1]
    assert "failed after 3 attempts: ConnectionRefusedError" in rows[-1][1]
    assert [(t.status, t.return_value) for t in _tasks(delivery)] == [
        ("SUCCESSFUL", "queued"),
        ("SUCCESSFUL", "queued"),
        ("SUCCESSFUL", "failed"),
    ]
    assert Invoice.objects.get(pk=delivery.invoice_id).delivered_at is None  # no email
    assert workers.emails() == []
