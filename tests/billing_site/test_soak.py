"""A bounded soak (issue 13, "Prove it, and keep proving it": "A bounded soak (60 s, 32
connections, mixed reads and writes from every role on 127.0.0.1) with zero errors; afterwards
every bill's history replays to its status and usage totals equal what was sent").

One gunicorn (2 workers x 8 threads) and one `manage.py run_worker` on the test database
(tests/processes.py); a month of usage over the limit for 30 customers, billed through
POST /api/bills/generate. Then 32 client threads, one keep-alive connection each, each a role
(Finance, Sales, the customers' CSM, a Customer Success stand-in), run a weighted mix for
SOAK_SECONDS seconds (default 8, the `make test` run):
- every role: GET /api/bills?page_size=50 and GET /api/bills/<id>;
- Finance: POST /api/usage, one item, on customer-months of its own (so the last value each
  thread sent for a key is the value the key must end with), and PATCH send on approved bills;
- Sales, the CSM and the stand-in: PATCH approve or reject on drafts and revert (undo) on
  decided bills, each with the version read just before.

Zero errors: every answer is one the request was designed to get (200; 409 for a write that
lost a race or whose bill moved on); a 5xx, a connection error, any other 4xx, or a usage
result other than what happened to the row is an error. The failure message counts the
answers per endpoint and status. Afterwards every bill's history replays to its status and
every usage key holds the last value sent (and one revision per change).

The long run: SOAK_SECONDS=60 make test PYTEST_ARGS=tests/billing_site/test_soak.py
PostgreSQL only, like the other tests that run real processes.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from accounts.models import Role
from bills.models import Action, Bill, BillAction, Status
from tests.factories import MONTH, PASSWORD, YEAR, CustomerFactory, UsageFactory, UserFactory
from tests.processes import Processes
from tests.processes import http as one_request
from usage.models import Usage, UsageRevision

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL (DATABASE_URL): gunicorn and a worker share the test "
        "database, which SQLite's in-memory test database cannot be (CI runs PostgreSQL)",
    ),
]

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "8"))
CONNECTIONS = 32
PLAIN, WITH_CSM = 20, 10  # billed customers: no CSM (one approval), CSM approval required
USAGE_YEAR = 2024  # the months the Finance threads record usage for, 12 per thread
# (role, user) of each client thread, cycled: every role works all the time.
THREAD_USERS = [
    ("finance", "fiona"),
    ("sales", "sam"),
    ("csm", "casey"),
    ("cs", "cora"),
    ("finance", "fred"),
    ("sales", "sally"),
    ("csm", "casey"),
    ("cs", "cora"),
]
EMAIL_FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


@dataclass
class Tally:
    """What every client saw, shared by the threads: answers[(endpoint, status)] (status an
    int, or the exception's name for a connection error), the errors' first samples, and the
    last usage value each thread sent per (customer id, year, month)."""

    answers: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    last_sent: dict[tuple[int, int, int], int] = field(default_factory=dict)
    changes_sent: Counter = field(default_factory=Counter)  # writes that changed each key
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, endpoint: str, status: int | str, error: str = "") -> None:
        with self.lock:
            self.answers[(endpoint, status)] += 1
            if error:
                self.error_count += 1
                if len(self.errors) < 20:
                    self.errors.append(f"{endpoint} {status}: {error[:300]}")

    def table(self) -> str:
        return "\n".join(f"  {e} {s}: {n}" for (e, s), n in sorted(self.answers.items(), key=str))


class Client:
    """One connection (HTTP/1.1 keep-alive) as one user: `call()` sends a JSON request and
    records its answer in the tally, an error unless its status is in `expected`."""

    def __init__(self, base: str, token: str, tally: Tally):
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.tally = tally

    def call(
        self, method: str, path: str, endpoint: str, body: Any = None, expected=(200,)
    ) -> tuple[int | None, Any]:
        """(status, decoded JSON body) of the request; (None, None) after a connection error."""
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()  # the next request opens a new connection
            self.tally.record(endpoint, type(error).__name__, repr(error))
            return None, None
        ok = response.status in expected
        self.tally.record(endpoint, response.status, "" if ok else raw.decode(errors="replace"))
        return response.status, (json.loads(raw) if raw and ok else None)


def _soak_thread(index: int, client: Client, role: str, plan: dict, deadline: float) -> None:
    """Run the role's weighted mix of requests until `deadline` (time.monotonic())."""
    rng = random.Random(index)
    tally = client.tally
    bills = plan["all_bills"] if role in ("finance", "sales", "csm") else plan["plain_bills"]
    keys = plan["usage_keys"].get(index, [])
    moves = ["list", "detail", "write"]
    weights = [2, 3, 6]
    while time.monotonic() < deadline:
        move = rng.choices(moves, weights)[0]
        pk = rng.choice(bills)
        if move == "list":
            client.call("GET", "/api/bills?page_size=50", "GET /api/bills")
            continue
        if move == "write" and role == "finance" and rng.random() < 0.7:
            key = rng.choice(keys)
            value = tally.last_sent.get(key) if rng.random() < 0.2 else None
            value = rng.randrange(0, 5_000_000) if value is None else value
            customer, year, month = key
            item = {"customer_id": customer, "year": year, "month": month, "api_usage": value}
            status, result = client.call("POST", "/api/usage", "POST /api/usage", item)
            if status != 200:
                continue
            before = tally.last_sent.get(key)
            outcome = "created" if before is None else "unchanged" if before == value else "updated"
            if result != {**{k: 0 for k in ("created", "updated", "unchanged")}, outcome: 1}:
                tally.record("POST /api/usage result", "wrong", f"{item}: {result}, not {outcome}")
            tally.last_sent[key] = value  # only this thread writes this key
            tally.changes_sent[key] += outcome != "unchanged"
            continue
        status, bill = client.call("GET", f"/api/bills/{pk}", "GET /api/bills/<id>")
        if move != "write" or bill is None:
            continue
        version = {"version": bill["version"]}
        comment = {**version, "comment": "Soak test: checked against the usage report."}
        if role == "finance":
            if bill["status"] == Status.APPROVED:
                path = f"/api/bills/{pk}/send"
                client.call("PATCH", path, "PATCH send", version, expected=(200, 409))
        elif bill["status"] == Status.DRAFT:
            action = rng.choices(["approve", "reject"], [8, 1])[0]
            path = f"/api/bills/{pk}/{action}"
            client.call("PATCH", path, f"PATCH {action}", comment, expected=(200, 409))
        elif bill["status"] in (Status.APPROVED, Status.REJECTED) and rng.random() < 0.3:
            path = f"/api/bills/{pk}/revert"
            client.call("PATCH", path, "PATCH revert", comment, expected=(200, 409))


def _history_errors(bill: Bill) -> list[str]:
    """What is wrong with the bill's history ([] when it replays): it starts with the bill's
    creation as a draft, each row starts from the status the row before left, the email rows
    leave the status as it was, and the last row leaves the bill's status."""
    rows = list(BillAction.objects.filter(bill=bill).order_by("id"))
    first = (rows[0].action, rows[0].from_status, rows[0].to_status)
    problems = [] if first == (Action.CREATED, "", Status.DRAFT) else [f"first row {first}"]
    for before, row in zip(rows, rows[1:], strict=False):
        if row.from_status != before.to_status:
            problems.append(
                f"row {row.pk} {row.action} from {row.from_status}, not {before.to_status}"
            )
        if row.action.startswith("email_") and row.from_status != row.to_status:
            problems.append(f"row {row.pk} {row.action} moved {row.from_status}->{row.to_status}")
    if rows[-1].to_status != bill.status:
        problems.append(f"last row leaves {rows[-1].to_status}, the bill is {bill.status}")
    return [f"bill {bill.pk}: {p}" for p in problems]


@pytest.fixture
def processes(transactional_db, tmp_path):
    started = Processes(
        tmp_path, EMAIL_BACKEND=EMAIL_FILE_BACKEND, EMAIL_FILE_PATH=str(tmp_path / "mail")
    )
    try:
        yield started
    finally:
        started.stop_all()


def _month_billed(processes: Processes, base: str, token: str) -> None:
    """Generate YEAR-MONTH through the API (202 and a job the worker runs, or 200) and wait
    for its job to succeed."""
    status, raw = one_request(
        base, "POST", "/api/bills/generate", {"year": YEAR, "month": MONTH}, token
    )
    assert status in (200, 202), raw
    if status == 200:
        return
    job_id = json.loads(raw)["id"]

    def settled():
        status, raw = one_request(base, "GET", f"/api/jobs/{job_id}", token=token)
        assert status == 200, raw
        job = json.loads(raw)
        return job if job["status"] in ("succeeded", "failed") else None

    job = processes.until(settled, f"month end job {job_id}", timeout=60)
    assert job["status"] == "succeeded", job


def test_soak_every_role_at_once_gives_no_errors_and_leaves_consistent_data(processes):
    users = {
        name: UserFactory(name=name, role=role)
        for name, role in [
            ("fiona", Role.FINANCE),
            ("fred", Role.FINANCE),
            ("sam", Role.SALES),
            ("sally", Role.SALES),
            ("casey", Role.CUSTOMER_SUCCESS),
            ("cora", Role.CUSTOMER_SUCCESS),
        ]
    }
    for i in range(PLAIN + WITH_CSM):
        with_csm = i >= PLAIN
        customer = CustomerFactory(
            csm=users["casey"] if with_csm else None, require_csm_approval=with_csm
        )
        UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=1_200_000 + 1_000 * i)
    roles = [THREAD_USERS[i % len(THREAD_USERS)] for i in range(CONNECTIONS)]
    finance_threads = [i for i, (role, _) in enumerate(roles) if role == "finance"]
    usage_customers = [CustomerFactory().pk for _ in finance_threads]

    processes.start_worker("worker-1")
    base = processes.start_web("web", workers=2, threads=8)
    tokens = {}
    for name in users:
        status, raw = one_request(
            base, "POST", "/api/session", {"name": name, "password": PASSWORD}
        )
        assert status == 200, raw
        tokens[name] = json.loads(raw)["token"]
    _month_billed(processes, base, tokens["fiona"])
    bills = list(Bill.objects.values_list("pk", "customer__csm_id"))
    assert len(bills) == PLAIN + WITH_CSM, bills

    plan = {
        "all_bills": [pk for pk, _ in bills],
        "plain_bills": [pk for pk, csm in bills if csm is None],
        # Each Finance thread records its own customer's twelve months.
        "usage_keys": {
            i: [(usage_customers[n], USAGE_YEAR, month) for month in range(1, 13)]
            for n, i in enumerate(finance_threads)
        },
    }
    tally = Tally()
    clients = [Client(base, tokens[name], tally) for _, name in roles]
    deadline = time.monotonic() + SOAK_SECONDS
    threads = [
        threading.Thread(target=_soak_thread, args=(i, clients[i], roles[i][0], plan, deadline))
        for i in range(CONNECTIONS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SOAK_SECONDS + 120)
    assert not any(thread.is_alive() for thread in threads), "a client thread hung"

    summary = f"answers per endpoint and status:\n{tally.table()}"
    print(summary)  # shown with pytest -s: what the soak did
    assert tally.error_count == 0, (
        f"{tally.error_count} errors, first: {tally.errors}\n{summary}\n{processes.logs()}"
    )
    writes = sum(n for (e, s), n in tally.answers.items() if e.startswith("PATCH") and s == 200)
    assert writes and tally.last_sent, f"the soak wrote nothing\n{summary}"

    problems = [p for bill in Bill.objects.all() for p in _history_errors(bill)]
    assert not problems, problems

    stored = {
        (u.customer_id, u.year, u.month): u.api_usage
        for u in Usage.objects.filter(customer_id__in=usage_customers)
    }
    assert stored == tally.last_sent
    assert sum(stored.values()) == sum(tally.last_sent.values())
    revisions = Counter(
        UsageRevision.objects.filter(usage__customer_id__in=usage_customers).values_list(
            "usage__customer_id", "usage__year", "usage__month"
        )
    )
    assert revisions == +tally.changes_sent
