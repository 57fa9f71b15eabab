"""Faults against the running app (issue 13, "Prove it": faults), each with real processes on the
PostgreSQL test database (tests/processes.py):
- a month end SIGKILLed in the middle of its transaction leaves no bill and no history; the
  surviving worker reports the job failed (WORKER_STOPPED) and a second start bills everyone
  with overage exactly once;
- a mail server that refuses the connection, accepts it and stays silent, or greets and then
  stalls past EMAIL_TIMEOUT: the outbox retries, then reports the delivery failed; nothing is
  marked delivered and nothing reached a mailbox; once a mail server works, a resend arrives
  exactly once;
- a usage batch whose database connection is terminated mid-write (after the usage rows were
  written, before their revisions): nothing of it is stored and the client gets a 503; the same
  batch sent again stores all of it;
- the database restarting, then going down and coming back (a TCP relay), under 8 concurrent
  clients reading and writing: no 500; 200 before, after the restart and once it is back; 503
  while it is down.

Each fault is made to land at a known point: the test holds a table or row lock that the
process's next write needs, checks (pg_stat_activity) that the process waits there inside its open
transaction, then strikes. Transactional tests: the processes read committed data.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from billing_site.core import periods
from billing_site.core.models import WorkerHeartbeat
from bills.models import Action, Bill, BillAction, Delivery, DeliveryStatus, Invoice, Status
from bills.models_jobs import Job, JobKind, JobStatus
from bills.services import bill_send, generation, generation_start
from bills.services.jobs import WORKER_STOPPED
from bills.services.outbox import delivery_resend
from customers.models import Customer
from tests.billing_site.test_database_outage import Relay
from tests.factories import PASSWORD, CustomerFactory, UserFactory
from tests.processes import Processes, free_port, http
from usage.models import Usage, UsageRevision

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL (DATABASE_URL): real processes share the test database, and "
        "the faults are struck through its locks and pg_terminate_backend",
    ),
]

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
LOCMEM_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def processes(transactional_db, tmp_path):
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def _customers_with_usage(count: int, year: int, month: int) -> int:
    """`count` customers (limit 1,000 calls, 0.01 a call, under contract since 2020) with usage
    in `year`-`month`: every third without overage. Set-based SQL (factories are too slow for
    thousands). Returns how many have overage."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customer (name, billing_address, billing_email, csm_id,"
            " monthly_api_limit, overage_unit_cost, require_csm_approval, payment_terms_days,"
            " start_date, end_date, created_at, updated_at)"
            " SELECT 'Customer ' || lpad(i::text, 6, '0'), '', 'ap' || i || '@example.com',"
            " NULL, 1000, 0.01, false, 30, DATE '2020-01-01', NULL, now(), now()"
            " FROM generate_series(1, %s) AS i",
            [count],
        )
        cursor.execute(
            "INSERT INTO usage_usage (customer_id, year, month, api_usage, created_at,"
            " updated_at) SELECT id, %s, %s, CASE WHEN id %% 3 = 0 THEN 500"
            " ELSE 1001 + id %% 997 END, now(), now() FROM customers_customer",
            [year, month],
        )
        cursor.execute("ANALYZE customers_customer")
        cursor.execute("ANALYZE usage_usage")
    return Usage.objects.filter(year=year, month=month, api_usage__gt=1000).count()


@contextlib.contextmanager
def _table_locked(table: str):
    """Hold a SHARE lock on `table` (its readers go on, its writers wait) on a connection of
    its own, so what the test itself writes meanwhile is committed, until the block ends."""
    own = connection.get_new_connection(connection.get_connection_params())
    try:
        own.autocommit = False
        own.execute(f'LOCK TABLE "{table}" IN SHARE MODE')
        yield
    finally:
        own.rollback()
        own.close()


@contextlib.contextmanager
def _bill_pending(customer_id: int, year: int, month: int):
    """Insert a draft bill for the customer-month on a connection of its own and hold it
    uncommitted until the block ends (then roll it back): another insert of a live bill for
    that customer-month waits on the unique index for this transaction to end."""
    own = connection.get_new_connection(connection.get_connection_params())
    try:
        own.autocommit = False
        own.execute(
            "INSERT INTO bills_bill (customer_id, year, month, api_usage, monthly_api_limit,"
            " overage_units, overage_unit_cost, overage_amount, amount_paid, currency,"
            " requires_csm_approval, status, computed_at, created_at, updated_at, version)"
            " VALUES (%s, %s, %s, 0, 0, 0, 0, 0, 0, 'USD', false, 'draft', now(), now(), now(), 1)",
            [customer_id, year, month],
        )
        yield
    finally:
        own.rollback()
        own.close()


def _waiting_writer(query: str) -> tuple[int, bool] | None:
    """The backend waiting for a lock in a statement whose text starts with `query` (a LIKE
    pattern), as (pid, whether its transaction has written already), or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_xid IS NOT NULL FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND wait_event_type = 'Lock' AND ltrim(query) LIKE %s",
            [query],
        )
        return cursor.fetchone()


def _backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 0


# --- the month end killed mid-run ------------------------------------------------------------


def _job(job: Job) -> Job:
    job.refresh_from_db()
    return job


def test_a_month_end_killed_mid_run_leaves_nothing_and_runs_again(processes, finance):
    year, month = periods.last_ended_month()
    chunk = generation.PROGRESS_EVERY  # customers per statement
    customers = chunk + 5_000
    billable = _customers_with_usage(customers, year, month)
    assert 0 < billable < customers
    second = Customer.objects.order_by("id").values_list("id", flat=True)[chunk:]
    pending = (
        Usage.objects.filter(year=year, month=month, api_usage__gt=1000, customer_id__in=second)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
        .first()
    )
    processes.start_worker("worker-a", EMAIL_BACKEND=LOCMEM_BACKEND)

    # The second chunk's bill for `pending` waits on the unique index for the test's own
    # uncommitted bill of that customer-month: worker A has billed the first chunk, bills and
    # history, in its open transaction, and is inside the second chunk's statement, when it is
    # killed (before it could send COMMIT).
    with _bill_pending(pending, year, month):
        job = generation_start(year=year, month=month, user=finance)
        processes.until(
            lambda: _job(job).status == JobStatus.RUNNING and job.processed == chunk,
            "worker A to go through the first chunk (progress written on its own connection)",
            timeout=60,
        )
        pid, written = processes.until(
            lambda: _waiting_writer("%/* month end chunk%"), "worker A to bill the second chunk"
        )
        assert written  # the first chunk's bills are in worker A's transaction
        assert BillAction.objects.count() == 0  # and nothing of it is visible
        assert job.worker_id == "worker-a"
        processes.kill("worker-a")
    processes.until(lambda: _backend_gone(pid), "worker A's database session to end")

    assert Bill.objects.filter(year=year, month=month).count() == 0
    assert BillAction.objects.count() == 0
    assert _job(job).status == JobStatus.RUNNING  # until a survivor notices

    processes.start_worker("worker-b", EMAIL_BACKEND=LOCMEM_BACKEND)
    processes.until(lambda: _job(job).status == JobStatus.FAILED, "worker B to settle the job")
    stopped = job.error
    assert Bill.objects.count() == 0

    again = generation_start(year=year, month=month, user=finance)
    assert again.pk != job.pk
    processes.until(
        lambda: _job(again).status not in (JobStatus.QUEUED, JobStatus.RUNNING),
        "worker B to run the month end again",
        timeout=90,
    )
    assert again.status == JobStatus.SUCCEEDED, (again.error, processes.logs())
    assert again.result["created"] == billable
    bills = Bill.objects.filter(year=year, month=month)
    assert bills.count() == billable
    assert bills.values("customer_id").distinct().count() == billable  # one bill each
    overage = Usage.objects.filter(year=year, month=month, api_usage__gt=1000)
    assert set(bills.values_list("customer_id", flat=True)) == set(
        overage.values_list("customer_id", flat=True)
    )
    created = BillAction.objects.filter(action=Action.CREATED)
    assert created.count() == BillAction.objects.count() == billable
    # What Finance is told about the killed run (checked last: the rest holds regardless).
    assert stopped == WORKER_STOPPED[JobKind.GENERATE]


# --- the mail server refusing, silent, slow --------------------------------------------------


class MailServer:
    """A minimal SMTP server on 127.0.0.1 (a thread per connection). `mode`:
    - "silent": accepts the connection and never sends the greeting;
    - "slow": sends the 220 greeting, then never answers (stalls past any client timeout);
    - "working": answers EHLO/HELO, MAIL, RCPT, DATA (keeping the message), QUIT.
    `messages`: the messages it accepted (answered 250 to their DATA), as bytes."""

    def __init__(self, mode: str, port: int = 0):
        self.mode = mode
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = self.listener.getsockname()[1]
        self.messages: list[bytes] = []
        self.closing = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            if self.mode == "silent":
                self.closing.wait(60)
                return
            conn.sendall(b"220 mail.test ESMTP\r\n")
            if self.mode == "slow":
                self.closing.wait(60)
                return
            conn.settimeout(30)
            reader = conn.makefile("rb")
            while line := reader.readline():
                verb = line[:4].upper()
                if verb == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                    lines = []
                    while (part := reader.readline()) not in (b".\r\n", b""):
                        lines.append(part)
                    self.messages.append(b"".join(lines))
                    conn.sendall(b"250 queued\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                elif verb in (b"EHLO", b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                    conn.sendall(b"250 ok\r\n")
                else:
                    conn.sendall(b"502 not implemented\r\n")

    def repair(self) -> None:
        """Work from the next connection on (the stalled ones are closed)."""
        self.mode = "working"
        self.closing.set()

    def close(self) -> None:
        self.closing.set()
        self.listener.close()


@pytest.fixture
def delivery(bill_in, finance) -> Delivery:
    """The queued delivery of an invoice just sent (committed) through the service."""
    customer = CustomerFactory(name="Globex", billing_email="ap@globex.example")
    bill = bill_send(bill=bill_in(Status.APPROVED, customer=customer), user=finance)
    return Delivery.objects.get(bill=bill)


def _settled(delivery: Delivery) -> bool:
    delivery.refresh_from_db()
    return delivery.status not in (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)


@pytest.mark.parametrize(
    "fault, error",
    [
        ("refusing", "ConnectionRefusedError"),
        ("silent", "timed out"),
        ("slow", "timed out"),
    ],
)
def test_a_mail_server_refusing_silent_or_slow_fails_the_delivery_and_a_resend_arrives_once(
    processes, delivery, finance, fault, error
):
    port = free_port()
    servers = [] if fault == "refusing" else [MailServer(fault, port)]
    try:
        processes.start_worker(
            "worker-a",
            EMAIL_BACKEND=SMTP_BACKEND,
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(port),
            EMAIL_TIMEOUT="1",
            DELIVERY_MAX_ATTEMPTS="2",
            DELIVERY_BACKOFF_SECONDS="0.2",
        )
        processes.until(lambda: _settled(delivery), "the delivery to fail", timeout=30)
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2), processes.logs()
        assert delivery.delivered_at is None
        assert error in delivery.last_error, delivery.last_error
        assert Invoice.objects.get(pk=delivery.invoice_id).delivered_at is None
        outbox = [
            row.action
            for row in delivery.bill.actions.order_by("id")
            if row.action.startswith("email_")
        ]
        assert outbox == [Action.EMAIL_QUEUED, Action.EMAIL_RETRY, Action.EMAIL_FAILED]
        assert all(server.messages == [] for server in servers)

        # The mail server works again: Finance resends, and it arrives once.
        if servers:
            working = servers[0]
            working.repair()
        else:
            working = MailServer("working", port)
            servers.append(working)
        resent = delivery_resend(bill=delivery.bill_id, user=finance)
        processes.until(lambda: _settled(resent), "the resend", timeout=30)
        assert (resent.status, resent.attempts) == (DeliveryStatus.DELIVERED, 1)
        [message] = working.messages
        assert f"X-Delivery-Key: {resent.key}".encode() in message
        invoice = Invoice.objects.get(pk=delivery.invoice_id)
        assert invoice.delivered_at == resent.delivered_at
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)
        # Two heartbeats later, nothing has been sent again.
        beats = _heartbeats(processes, "worker-a", 2)
        assert beats and len(working.messages) == 1
    finally:
        for server in servers:
            server.close()


def _heartbeats(processes: Processes, worker_id: str, count: int) -> bool:
    """Wait until `worker_id` has beaten `count` more times (1 s apart)."""
    later = timezone.now() + timedelta(seconds=count - 0.5)
    beat = WorkerHeartbeat.objects.filter(worker_id=worker_id, seen_at__gte=later)
    return processes.until(beat.exists, f"{count} more heartbeats", timeout=count + 10)


# --- a usage batch interrupted by a dropped connection ---------------------------------------


def test_a_usage_batch_cut_off_mid_write_stores_nothing_and_answers_503(processes):
    year, month = periods.last_ended_month()
    UserFactory(name="fiona", role=Role.FINANCE)
    _customers_with_usage(3000, year - 1, month)  # usage of another month only
    ids = list(Usage.objects.values_list("customer_id", flat=True))
    batch = [
        {"customer_id": pk, "year": year, "month": month, "api_usage": 5000 + pk} for pk in ids
    ]
    before = Usage.objects.count()
    base = processes.start_web("web")
    status, body = http(base, "POST", "/api/session", {"name": "fiona", "password": PASSWORD})
    assert status == 200, body
    token = json.loads(body)["token"]

    answers: list[tuple[int, bytes]] = []
    revisions = UsageRevision._meta.db_table
    # The batch's one write statement (the usage upsert feeding the revisions' insert) waits
    # for the test's lock on the revisions table: the request's transaction has staged and
    # checked the rows (it holds a transaction id) when its connection is terminated.
    with _table_locked(revisions):
        post = threading.Thread(
            target=lambda: answers.append(http(base, "POST", "/api/usage", batch, token))
        )
        post.start()
        pid, written = processes.until(
            lambda: _waiting_writer(f"WITH u AS (INSERT INTO %{revisions}%"),
            "the batch to write its usage rows",
            timeout=30,
        )
        assert written
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    post.join(timeout=60)
    [(status, body)] = answers
    assert Usage.objects.count() == before  # none of the batch
    assert not Usage.objects.filter(year=year, month=month).exists()
    assert UsageRevision.objects.count() == 0
    assert status == 503, body
    assert b"database" in body

    # Sent again, all of it is stored.
    status, body = http(base, "POST", "/api/usage", batch, token)
    assert status == 200, body
    assert json.loads(body) == {"created": len(batch), "updated": 0, "unchanged": 0}
    assert Usage.objects.filter(year=year, month=month).count() == len(batch)
    assert UsageRevision.objects.count() == len(batch)


# --- the database restarted under load -------------------------------------------------------


def test_a_database_restart_under_load_answers_503_while_down_and_200_after(processes):
    # test_database_outage.py covers one client at a time; here 8 clients read and write at
    # once through 2 workers x 4 threads while the database goes down and comes back.
    year, month = periods.last_ended_month()
    UserFactory(name="fiona", role=Role.FINANCE)
    customer = CustomerFactory()
    settings = connection.settings_dict
    relay = Relay((settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432)))
    url = f"postgres://{settings['USER']}@127.0.0.1:{relay.port}/{settings['NAME']}"
    try:
        base = processes.start_web("web", workers=2, threads=4, DATABASE_URL=url)
        status, body = http(base, "POST", "/api/session", {"name": "fiona", "password": PASSWORD})
        assert status == 200, body
        token = json.loads(body)["token"]
        calls: list[tuple[float, float, str, int, bytes]] = []  # start, end, what, status, body
        stop, go = threading.Event(), threading.Event()
        busy = threading.Semaphore(8)  # a client holds one while its request is in flight

        def client(number: int) -> None:
            count = 0
            while not stop.is_set():
                count += 1
                go.wait()
                with busy:
                    started = time.monotonic()
                    if number % 2:
                        item = {"customer_id": customer.pk, "year": year, "month": month}
                        item["api_usage"] = count
                        answer = http(base, "POST", "/api/usage", item, token)
                        what = "write"
                    else:
                        answer = http(base, "GET", "/api/bills", token=token)
                        what = "read"
                    calls.append((started, time.monotonic(), what, *answer))

        clients = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        go.set()
        for thread in clients:
            thread.start()
        try:
            time.sleep(1.5)
            # PostgreSQL restarts while no request runs: every pooled connection is broken and
            # idle, and the next request on each must not pay for it.
            go.clear()
            for _ in range(8):
                assert busy.acquire(timeout=60)
            restart = time.monotonic()
            relay.cut()
            for _ in range(8):
                busy.release()
            go.set()
            time.sleep(1.5)
            down = time.monotonic()
            relay.down()  # PostgreSQL stops: every connection cut, new ones refused
            time.sleep(2.5)
            up = time.monotonic()
            relay.up()
            time.sleep(2.5)
        finally:
            stop.set()
            for thread in clients:
                thread.join(timeout=60)
    finally:
        relay.close()

    unexpected = [
        (what, status, body[:200]) for *_, what, status, body in calls if status not in (200, 503)
    ]
    assert unexpected == [], processes.logs()
    before = [c for c in calls if c[1] <= restart]
    restarted = [c for c in calls if c[0] >= restart and c[1] <= down]
    during = [c for c in calls if c[0] >= down + 0.2 and c[1] <= up]
    after = [c for c in calls if c[0] >= up + 0.5]
    assert before and restarted and during and after
    assert {c[3] for c in before} == {c[3] for c in restarted} == {200}
    assert {c[3] for c in during} == {503}
    assert all(b"database" in c[4] for c in during)
    assert {c[3] for c in after} == {200}
    assert {c[2] for c in during} == {c[2] for c in after} == {"read", "write"}
