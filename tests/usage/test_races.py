"""Racing usage writes in real threads on PostgreSQL, through POST /api/usage: what each client
is told is what happened to the row (one "created", the others "updated" or "unchanged"), and
the revisions chain up (each one's old value is the one before's new value).

Each thread has its own database connection (closed when it ends); a Barrier starts them
together.
"""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, transaction

from tests.factories import CustomerFactory
from usage.models import Usage, UsageRevision
from usage.services import usage_record_many

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs concurrent writers: SQLite serializes every write",
    ),
    pytest.mark.django_db(transaction=True),
]

YEAR, MONTH = 2025, 3
CLIENTS = 4


def post_at_once(make_client, bodies: list[list[dict]]) -> list[dict]:
    """POST each body to /api/usage from its own thread (and client, made by make_client()) at
    the same moment; the JSON answers."""
    clients = [make_client() for _ in bodies]
    barrier = threading.Barrier(len(bodies))
    answers: list[dict] = [{}] * len(bodies)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            response = clients[index].post("/api/usage", bodies[index], format="json")
            answers[index] = {"status": response.status_code, **response.json()}
        except Exception as exc:  # reported by the assertions, not lost in the thread
            answers[index] = {"error": repr(exc)}
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a racing request hung"
    return answers


def _item(customer, api_usage: int) -> dict:
    return {"customer_id": customer.pk, "year": YEAR, "month": MONTH, "api_usage": api_usage}


def _counts(answers: list[dict]) -> list[tuple]:
    return sorted(
        (a.get("status"), a.get("created"), a.get("updated"), a.get("unchanged")) for a in answers
    )


def test_racing_clients_sending_one_new_month_are_told_created_once(finance, api_as):
    customer = CustomerFactory()
    answers = post_at_once(lambda: api_as(finance), [[_item(customer, 1_500_000)]] * CLIENTS)
    assert _counts(answers) == [
        (200, 0, 0, 1),
        (200, 0, 0, 1),
        (200, 0, 0, 1),
        (200, 1, 0, 0),
    ], answers
    assert list(Usage.objects.values_list("api_usage", flat=True)) == [1_500_000]
    assert list(UsageRevision.objects.values_list("old_value", "new_value")) == [(None, 1_500_000)]


def test_racing_clients_sending_different_values_see_one_create_and_the_updates(finance, api_as):
    customer = CustomerFactory()
    values = [1_100_000, 1_200_000, 1_300_000, 1_400_000]
    answers = post_at_once(lambda: api_as(finance), [[_item(customer, v)] for v in values])
    assert sorted((a.get("created"), a.get("updated"), a.get("unchanged")) for a in answers) == [
        (0, 1, 0),
        (0, 1, 0),
        (0, 1, 0),
        (1, 0, 0),
    ], answers
    revisions = list(UsageRevision.objects.order_by("id").values_list("old_value", "new_value"))
    assert len(revisions) == 4
    assert revisions[0][0] is None
    for before, after in zip(revisions, revisions[1:], strict=False):
        assert after[0] == before[1]  # each old value is what the row held
    assert sorted(new for _, new in revisions) == values
    [stored] = Usage.objects.values_list("api_usage", flat=True)
    assert stored == revisions[-1][1]


def _hold_recording(customer, finance, holding: threading.Event, release: threading.Event):
    """In this thread: record one month of `customer` and keep its transaction (and the
    customer's write lock) open until `release` is set."""
    try:
        with transaction.atomic():
            usage_record_many(items=[_item(customer, 1_000)], user=finance, source="api")
            holding.set()
            release.wait(timeout=20)
    finally:
        connection.close()


def _record_or_time_out(customer, finance) -> str:
    """Record one month of `customer` here, waiting at most 2 s for a lock: "recorded" or
    "waited" (PostgreSQL's lock_timeout fired)."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            usage_record_many(items=[_item(customer, 2_000)], user=finance, source="api")
    except OperationalError as error:
        assert "lock timeout" in str(error), error
        return "waited"
    return "recorded"


@pytest.mark.parametrize("same_customer", [True, False], ids=["same customer", "other customer"])
def test_a_recording_waits_only_for_recordings_of_its_own_customers(finance, same_customer):
    """Issue 14: usage writers lock their customers, not the whole table: a one-row POST does
    not queue behind another customer's batch, and two recordings of one customer-month still
    never interleave (the races above)."""
    held, other = CustomerFactory(), CustomerFactory()
    holding, release = threading.Event(), threading.Event()
    thread = threading.Thread(target=_hold_recording, args=(held, finance, holding, release))
    thread.start()
    try:
        assert holding.wait(timeout=10), "the holding recording did not start"
        outcome = _record_or_time_out(held if same_customer else other, finance)
    finally:
        release.set()
        thread.join(timeout=30)
    assert outcome == ("waited" if same_customer else "recorded")
