"""Every pair of actions that can apply to one state, raced in real threads on PostgreSQL with the
same bill version (SPEC "Bill lifecycle"): exactly one wins, the other gets a 409 naming the bill's
status now, and the history has exactly one new row.

Each thread has its own database connection (closed when it ends); a Barrier starts them
together. Without the version check the second request of most pairs would decide on what the
first left (two Undos would strip both approvals of a two-approval bill).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from accounts.models import Role
from billing_site.core import periods
from billing_site.core.errors import DomainError
from bills.models import Bill, Status
from bills.services import (
    bill_approve,
    bill_dismiss_usage_change,
    bill_rebill,
    bill_reject,
    bill_revert,
    bill_send,
    bill_update,
    bill_void,
    payment_record,
    payment_undo,
)
from tests.factories import MONTH, YEAR, CustomerFactory, UserFactory, make_bill
from usage.models import Usage

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs row locks and concurrent writers: SQLite serializes every write",
    ),
    pytest.mark.django_db(transaction=True),
]


def race(*calls: Callable[[], object]) -> list[tuple[str, str]]:
    """Run the calls at the same moment; each outcome is ("ok", "") or (kind, message)."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[tuple[str, str]] = [("", "")] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            call()
            outcomes[index] = ("ok", "")
        except DomainError as exc:
            outcomes[index] = (exc.kind, exc.message)
        except Exception as exc:  # reported by the assertion, not lost in the thread
            outcomes[index] = (repr(exc), "")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a racing call hung"
    return outcomes


@pytest.fixture
def people(db):
    return {
        "finance": UserFactory(name="fiona", role=Role.FINANCE),
        "finance2": UserFactory(name="frank", role=Role.FINANCE),
        "sales": UserFactory(name="sam", role=Role.SALES),
        "sales2": UserFactory(name="sasha", role=Role.SALES),
        "csm": UserFactory(name="casey", role=Role.CUSTOMER_SUCCESS),
    }


# --- the states a race starts from: each returns the bill (and the payment, for an undo) ----


def _draft(p, *, two=False) -> Bill:
    customer = CustomerFactory(csm=p["csm"], require_csm_approval=two)
    return make_bill(customer=customer, finance=p["finance"], year=YEAR, month=MONTH)


def _partly_approved(p) -> Bill:
    return bill_approve(bill=_draft(p, two=True), user=p["csm"])


def _approved_by_two(p) -> Bill:
    return bill_approve(bill=_partly_approved(p), user=p["sales"])


def _rejected(p) -> Bill:
    return bill_reject(bill=_draft(p), user=p["sales"], comment="Test traffic.")


def _sent(p) -> Bill:
    return bill_send(bill=bill_approve(bill=_draft(p), user=p["sales"]), user=p["finance"])


def _sent_partly_paid(p) -> Bill:
    return _pay(p, _sent(p), "finance")


def _sent_usage_changed(p) -> Bill:
    bill = _sent(p)
    Usage.objects.filter(customer=bill.customer, year=YEAR, month=MONTH).update(api_usage=1_600_000)
    return bill


def _void(p) -> Bill:
    return bill_void(bill=_sent(p), user=p["finance"], comment="Wrong address.")


def _pay(p, bill: Bill, who: str) -> Bill:
    return payment_record(
        bill=bill.pk, user=p[who], date=periods.today(), amount="10.00", reference=f"TR-{who}"
    ).bill


STATES = {
    "draft": _draft,
    "partly approved": _partly_approved,
    "approved by two": _approved_by_two,
    "rejected": _rejected,
    "sent": _sent,
    "sent, partly paid": _sent_partly_paid,
    "sent, usage changed": _sent_usage_changed,
    "void": _void,
}

# --- the actions: (people, bill, version) -> whatever the service returns --------------------

ACTIONS: dict[str, Callable[[dict, Bill, int], object]] = {
    "approve as Sales": lambda p, b, v: bill_approve(bill=b.pk, user=p["sales"], version=v),
    "approve as the CSM": lambda p, b, v: bill_approve(bill=b.pk, user=p["csm"], version=v),
    "reject": lambda p, b, v: bill_reject(bill=b.pk, user=p["sales2"], comment="No.", version=v),
    "undo as the CSM": lambda p, b, v: bill_revert(
        bill=b.pk, user=p["csm"], comment="Undo.", version=v
    ),
    "undo as Sales": lambda p, b, v: bill_revert(
        bill=b.pk, user=p["sales2"], comment="Undo.", version=v
    ),
    "recompute": lambda p, b, v: bill_update(
        bill=b.pk, user=p["finance2"], comment="Recompute.", version=v
    ),
    "send": lambda p, b, v: bill_send(bill=b.pk, user=p["finance"], version=v),
    "send again": lambda p, b, v: bill_send(bill=b.pk, user=p["finance2"], version=v),
    "void": lambda p, b, v: bill_void(bill=b.pk, user=p["finance"], comment="Void.", version=v),
    "dismiss": lambda p, b, v: bill_dismiss_usage_change(
        bill=b.pk, user=p["finance2"], comment="Keep it.", version=v
    ),
    "record a payment": lambda p, b, v: payment_record(
        bill=b.pk, user=p["finance"], date=periods.today(), amount="1.00", reference="A", version=v
    ),
    "record another payment": lambda p, b, v: payment_record(
        bill=b.pk, user=p["finance2"], date=periods.today(), amount="2.00", reference="B", version=v
    ),
    "undo the payment": lambda p, b, v: payment_undo(
        bill=b.pk, payment=b.payments.get().pk, user=p["finance2"], comment="Typo.", version=v
    ),
    "undo the payment again": lambda p, b, v: payment_undo(
        bill=b.pk, payment=b.payments.get().pk, user=p["finance"], comment="Typo!", version=v
    ),
    "re-bill": lambda p, b, v: bill_rebill(bill=b.pk, user=p["finance"], version=v),
    "re-bill again": lambda p, b, v: bill_rebill(bill=b.pk, user=p["finance2"], version=v),
}

# (state, first action, second action, the bill's status after each one's win), written out.
RACES = [
    ("draft", "approve as Sales", "approve as the CSM", {"*": Status.APPROVED}),
    ("draft", "approve as Sales", "reject", {"approve as Sales": "approved", "reject": "rejected"}),
    ("draft", "reject", "recompute", {"reject": "rejected", "recompute": "draft"}),
    ("draft", "approve as the CSM", "recompute", {"approve as the CSM": "approved", "*": "draft"}),
    ("partly approved", "undo as the CSM", "undo as Sales", {"*": Status.DRAFT}),
    (
        "partly approved",
        "undo as Sales",
        "approve as Sales",
        {"undo as Sales": "draft", "*": "approved"},
    ),
    ("partly approved", "reject", "recompute", {"reject": "rejected", "recompute": "draft"}),
    ("approved by two", "undo as the CSM", "undo as Sales", {"*": Status.DRAFT}),
    ("approved by two", "undo as Sales", "send", {"undo as Sales": "draft", "send": "sent"}),
    ("approved by two", "send", "send again", {"*": Status.SENT}),
    ("rejected", "undo as the CSM", "undo as Sales", {"*": Status.DRAFT}),
    ("rejected", "undo as Sales", "recompute", {"*": Status.DRAFT}),
    ("sent", "void", "record a payment", {"void": "void", "record a payment": "sent"}),
    ("sent", "record a payment", "record another payment", {"*": Status.SENT}),
    ("sent, partly paid", "undo the payment", "record a payment", {"*": Status.SENT}),
    ("sent, partly paid", "undo the payment", "undo the payment again", {"*": Status.SENT}),
    ("sent, usage changed", "dismiss", "void", {"dismiss": "sent", "void": "void"}),
    ("void", "re-bill", "re-bill again", {"*": Status.VOID}),
]


def test_of_two_racing_actions_on_one_version_exactly_one_wins(people):
    # One test for every race: flushing the database after each (transaction=True) costs more
    # than the race itself. The assertion messages name the race.
    for state, first, second, after in RACES:
        race_name = f"{state}: {first} / {second}"
        bill = STATES[state](people)
        own = bill.actions.exclude(action__startswith="email_")  # the outbox's rows aside
        version, rows = bill.version, own.count()
        outcomes = race(
            lambda: ACTIONS[first](people, bill, version),  # noqa: B023 (run before the next)
            lambda: ACTIONS[second](people, bill, version),  # noqa: B023
        )
        assert sorted(kind for kind, _ in outcomes) == ["conflict", "ok"], (race_name, outcomes)
        winner = first if outcomes[0][0] == "ok" else second
        status = after.get(winner, after.get("*"))
        [message] = [message for kind, message in outcomes if kind == "conflict"]
        assert message == (
            f"Bill #{bill.pk} changed since you looked at it (now: {status}): reload and decide "
            "again."
        ), race_name
        bill.refresh_from_db()
        assert (bill.status, bill.version, own.count()) == (
            status,
            version + 1,
            rows + 1,
        ), race_name
        assert own.last().to_status == status, race_name


def test_two_racing_undos_of_a_two_approval_bill_strip_one_approval(people):
    """The issue's case, a few rounds: the approval left is the one that was not undone."""
    for _ in range(3):
        bill = _approved_by_two(people)
        outcomes = race(
            lambda: ACTIONS["undo as the CSM"](people, bill, bill.version),
            lambda: ACTIONS["undo as Sales"](people, bill, bill.version),
        )
        assert sorted(kind for kind, _ in outcomes) == ["conflict", "ok"]
        bill.refresh_from_db()
        assert (bill.status, bill.approvals_given) == (Status.DRAFT, 1)
        assert bill.csm_approved_by == people["csm"]  # the later (Sales) approval was undone
        assert bill.actions.filter(action="reverted").count() == 1
