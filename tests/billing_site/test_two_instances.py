"""Several instances on one database (issue 12, "Several instances, as a user would deploy it"):
two gunicorn instances on two ports and one `manage.py run_worker`, all on the test database,
and a Finance user, two Sales users and a CSM working through both instances at once:
- the month end started twice at once, one request through each instance, bills every
  customer-month with overage exactly once;
- each bill approved through both instances at once with the same version (body `version` on
  one, `If-Match` on the other): one wins, the other gets 409, the bill is approved once;
- a bulk send split across both instances with overlapping ids: every bill sent once, and the
  worker emails every invoice exactly once (one X-Delivery-Key per invoice in the mail files);
- afterwards every bill's history replays to its status.

The servers and the worker read what the test wrote, so the data is committed (transactional
tests), and they share the test database: PostgreSQL only, like the other subprocess tests.
"""

from __future__ import annotations

import email
import json
import os
import threading
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from accounts.models import Role
from bills.models import Action, Bill, BillAction, Delivery, DeliveryStatus, Status
from tests.factories import MONTH, PASSWORD, YEAR, CustomerFactory, UsageFactory, UserFactory
from tests.processes import Processes

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL (DATABASE_URL): two servers and a worker share the test "
        "database, which SQLite's in-memory test database cannot be (CI runs PostgreSQL)",
    ),
]

FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
PLAIN, WITH_CSM, NO_OVERAGE = 30, 10, 4  # customers of each kind


class Cluster(Processes):
    """Two gunicorn instances and one worker on the test database (`start()`), on
    tests/processes.py; `stop_all()` kills whatever still runs. The web instances write their
    email (the approvers' digests) to <tmp>/web-mail/, the worker to <tmp>/worker-mail/."""

    def __init__(self, tmp_path: Path):
        super().__init__(
            tmp_path,
            EMAIL_BACKEND=FILE_BACKEND,
            WORKER_GONE_SECONDS="5",
            DELIVERY_BACKOFF_SECONDS="0.2",
        )
        self.worker_mail = tmp_path / "worker-mail"
        self.urls: list[str] = []

    def start(self) -> None:
        """Start both web instances (2 workers x 4 threads each) and the worker; returns once
        every one answers (the web: GET /health/live; the worker: its first heartbeat)."""
        mail = str(self.tmp_path / "web-mail")
        for name in ("web-a", "web-b"):
            self.urls.append(self.start_web(name, workers=2, threads=4, EMAIL_FILE_PATH=mail))
        self.start_worker("worker-1", EMAIL_FILE_PATH=str(self.worker_mail))

    def emails(self) -> list[email.message.Message]:
        """Every message the worker handed to its mail backend (the file backend writes each
        connection's messages to one file, separated by a line of 79 dashes)."""
        messages = []
        for path in sorted(self.worker_mail.glob("*")):
            for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if chunk.strip():
                    messages.append(email.message_from_bytes(chunk.lstrip(b"\n")))
        return messages


def call(base: str, method: str, path: str, body=None, token: str = "", headers=None):
    """One JSON request to an instance: (status, decoded body or None). Never raises for an
    HTTP error status; a 5xx fails the test at once with the answer."""
    request = urllib.request.Request(
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    assert status < 500, f"{method} {path} on {base}: {status} {raw[:2000]!r}"
    return status, (json.loads(raw) if raw else None)


def _at_once(calls: list) -> list:
    """Run the zero-argument callables in pairs (0 and 1, 2 and 3, ...), the two of a pair
    released together by a barrier; returns their results in order."""
    barriers = [threading.Barrier(2, timeout=30) for _ in range(0, len(calls), 2)]

    def run(index: int):
        barriers[index // 2].wait()
        return calls[index]()

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(run, range(len(calls))))


# --- the month end and the bulk send: 202 with a job (issue 12), or the synchronous 200 ------


def _job_wait(cluster: Cluster, base: str, token: str, job: dict) -> dict:
    """Poll GET /api/jobs/<id> until the job succeeded or failed; returns the job."""

    def settled():
        status, now = call(base, "GET", f"/api/jobs/{job['id']}", token=token)
        assert status == 200, now
        return now if now["status"] in ("succeeded", "failed") else None

    return cluster.until(settled, f"job {job['id']}", timeout=45)


def month_end(cluster: Cluster, base: str, token: str) -> tuple[int, str, dict]:
    """Generate YEAR-MONTH through `base`: (HTTP status of the POST, the job's id or "" for a
    synchronous answer, the generation's result {created, skipped, ...} or the 409's body). A
    202 answer (the month end as a task) is polled until its job succeeds (AssertionError if
    it fails)."""
    status, body = call(base, "POST", "/api/bills/generate", {"year": YEAR, "month": MONTH}, token)
    if status != 202:
        return status, "", body
    job = _job_wait(cluster, base, token, body)
    assert job["status"] == "succeeded", job
    return 202, job["id"], job["result"]


def bulk_send(cluster: Cluster, base: str, token: str, ids: list[int]) -> list[dict]:
    """POST /api/bills/bulk/send through `base`; its per-id outcomes [{id, outcome, ...}]
    (polled to its end should the bulk send answer 202 with a job)."""
    status, body = call(base, "POST", "/api/bills/bulk/send", {"ids": ids}, token)
    if status == 202:
        job = _job_wait(cluster, base, token, body)
        assert job["status"] == "succeeded", job
        body = job["result"]
    assert status in (200, 202), body
    return body["results"]


# --- the test ------------------------------------------------------------------------------


@pytest.fixture
def cluster(transactional_db, tmp_path):
    started = Cluster(tmp_path)
    try:
        started.start()
        yield started
    finally:
        started.stop_all()


def _people() -> dict:
    """Finance, two Sales users and a CSM: {name: User}."""
    people = {"fiona": Role.FINANCE, "sam": Role.SALES, "sally": Role.SALES}
    people["casey"] = Role.CUSTOMER_SUCCESS
    return {name: UserFactory(name=name, role=role) for name, role in people.items()}


def _customers(casey) -> list[int]:
    """The month's customers: PLAIN and WITH_CSM over their limit (the latter needing casey's
    approval too), NO_OVERAGE under it. Returns the ids of those with overage."""
    over = []
    for i in range(PLAIN + WITH_CSM + NO_OVERAGE):
        needs_csm = PLAIN <= i < PLAIN + WITH_CSM
        customer = CustomerFactory(csm=casey if needs_csm else None, require_csm_approval=needs_csm)
        usage = 1_200_000 + 1_000 * i if i < PLAIN + WITH_CSM else 900_000
        UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=usage)
        if i < PLAIN + WITH_CSM:
            over.append(customer.pk)
    return over


def _log_in(base: str, name: str) -> str:
    status, session = call(base, "POST", "/api/session", {"name": name, "password": PASSWORD})
    assert status == 200, session
    return session["token"]


def _approve_race(cluster: Cluster, bill_ids: list[int], tokens: tuple[str, str]) -> list[int]:
    """Approve each bill through both instances at once (tokens[0] through A with the version
    in the body, tokens[1] through B with If-Match), both deciding on the version they read.
    Returns, per bill, the statuses of its two answers sorted: [200, 409] when one won."""
    a, b = cluster.urls
    calls = []
    for pk in bill_ids:
        status, bill = call(a, "GET", f"/api/bills/{pk}", token=tokens[0])
        assert status == 200, bill
        version = bill["version"]
        body = {"comment": "Checked with the account team."}
        calls.append(
            lambda pk=pk, v=version: call(
                a, "PATCH", f"/api/bills/{pk}/approve", {**body, "version": v}, tokens[0]
            )
        )
        calls.append(
            lambda pk=pk, v=version: call(
                b, "PATCH", f"/api/bills/{pk}/approve", body, tokens[1], {"If-Match": str(v)}
            )
        )
    answers = [status for status, _ in _at_once(calls)]
    return [sorted(answers[i : i + 2]) for i in range(0, len(answers), 2)]


def _history_replays(bill: Bill) -> None:
    """The bill's history, oldest first, starts with its creation as a draft, each row starts
    from the status the one before left, and the last leaves the bill's status."""
    rows = list(BillAction.objects.filter(bill=bill).order_by("id"))
    assert (rows[0].action, rows[0].from_status, rows[0].to_status) == (
        Action.CREATED,
        "",
        Status.DRAFT,
    )
    for before, row in zip(rows, rows[1:], strict=False):
        assert row.from_status == before.to_status, (bill.pk, before.action, row.action)
    assert rows[-1].to_status == bill.status, bill.pk


def test_two_instances_and_a_worker_bill_approve_and_email_each_bill_once(cluster):
    a, b = cluster.urls
    users = _people()
    over = _customers(users["casey"])
    fiona, sam, sally, casey = (_log_in(a, name) for name in ("fiona", "sam", "sally", "casey"))

    # The month end, started twice at once: one request through each instance.
    answers = _at_once([lambda: month_end(cluster, a, fiona), lambda: month_end(cluster, b, fiona)])
    assert all(status in (200, 202, 409) for status, _, _ in answers), answers
    # Two synchronous answers are two generations; two 202s may be one job answered twice.
    made = {job or n: result for n, (status, job, result) in enumerate(answers) if status < 300}
    assert made, answers
    assert sum(result["created"] for result in made.values()) == len(over), answers
    per_month = Counter(Bill.objects.values_list("customer_id", "year", "month"))
    assert per_month == Counter((pk, YEAR, MONTH) for pk in over)

    bills = {b.customer_id: b.pk for b in Bill.objects.all()}
    plain = [bills[pk] for pk in over[:PLAIN]]
    with_csm = [bills[pk] for pk in over[PLAIN:]]

    # Approvals: each bill by two Sales users through the two instances at once; the bills
    # that need the CSM too, then by the CSM through both at once.
    assert _approve_race(cluster, plain + with_csm, (sam, sally)) == [[200, 409]] * len(over)
    assert _approve_race(cluster, with_csm, (casey, casey)) == [[200, 409]] * WITH_CSM
    assert set(Bill.objects.values_list("status", flat=True)) == {Status.APPROVED}
    approved = Counter(
        BillAction.objects.filter(action=Action.APPROVED, to_status=Status.APPROVED).values_list(
            "bill_id", flat=True
        )
    )
    assert approved == Counter(bills.values())

    # A bulk send split across the instances, the middle third sent through both.
    ids = sorted(bills.values())
    third = len(ids) // 3
    outcomes = _at_once(
        [
            lambda: bulk_send(cluster, a, fiona, ids[: 2 * third]),
            lambda: bulk_send(cluster, b, fiona, ids[third:]),
        ]
    )
    sent = Counter(o["id"] for results in outcomes for o in results if o["outcome"] == "sent")
    assert sent == Counter(ids), outcomes

    # The worker delivers every invoice, each exactly once.
    deliveries = Delivery.objects.filter(invoice__isnull=False)
    cluster.until(
        lambda: (
            not deliveries.exclude(status=DeliveryStatus.DELIVERED).exists()
            and deliveries.count() == len(ids)
        ),
        "the worker to deliver every invoice",
        timeout=45,
    )
    numbers = {str(key): n for key, n in deliveries.values_list("key", "invoice__number")}
    assert Counter(deliveries.values_list("bill_id", flat=True)) == Counter(ids)
    # The worker's other email is the approvers' digests (once the month end runs in it).
    messages = [m for m in cluster.emails() if m["X-Delivery-Key"]]
    keys = Counter(message["X-Delivery-Key"] for message in messages)
    assert keys == Counter(numbers.keys()), cluster.logs()
    for message in messages:
        assert numbers[message["X-Delivery-Key"]] in str(message["Subject"])
    subjects = " ".join(str(m["Subject"]) for m in cluster.emails() if not m["X-Delivery-Key"])
    assert not any(number in subjects for number in numbers.values())

    for bill in Bill.objects.all():
        assert bill.status == Status.SENT
        _history_replays(bill)
    assert Counter(
        BillAction.objects.filter(action=Action.SENT).values_list("bill_id", flat=True)
    ) == Counter(ids)
