"""Racing requests in real threads against PostgreSQL: one wins, the other gets a conflict.

Each thread has its own database connection (and closes it); a Barrier releases them together.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from accounts.models import Role
from billing_site.core.errors import DomainError
from bills.models import Action, Bill, BillAction, Status
from bills.services import bill_approve, bill_create, bill_generate, bill_reject
from tests.factories import MONTH, YEAR, CustomerFactory, UsageFactory, UserFactory, make_bill

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs row locks and concurrent writers: SQLite serializes every write",
    ),
    pytest.mark.django_db(transaction=True),
]

ROUNDS = 3  # a few races each, so that an unlucky schedule cannot hide a missing lock


def race(*calls: Callable[[], object]) -> list[str]:
    """Run the calls at the same moment; each outcome is "ok" or the DomainError's kind."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            call()
            outcomes[index] = "ok"
        except DomainError as exc:
            outcomes[index] = exc.kind
        except Exception as exc:  # reported by the assertion below, not lost in the thread
            outcomes[index] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a racing call hung"
    return sorted(outcomes)


@pytest.fixture
def people(db):
    return {
        "finance": UserFactory(name="fiona", role=Role.FINANCE),
        "finance2": UserFactory(name="frank", role=Role.FINANCE),
        "sales": UserFactory(name="sam", role=Role.SALES),
        "sales2": UserFactory(name="sasha", role=Role.SALES),
        "csm": UserFactory(name="casey", role=Role.CUSTOMER_SUCCESS),
    }


def _one_approval_bill(people) -> Bill:
    customer = CustomerFactory(csm=people["csm"])
    return make_bill(customer=customer, finance=people["finance"], year=YEAR, month=MONTH)


def test_of_two_racing_approvals_exactly_one_wins(people):
    for _ in range(ROUNDS):
        bill = _one_approval_bill(people)
        outcomes = race(
            lambda: bill_approve(bill=bill.pk, user=people["sales"]),
            lambda: bill_approve(bill=bill.pk, user=people["csm"]),
        )
        assert outcomes == ["conflict", "ok"]
        bill.refresh_from_db()
        assert bill.status == Status.APPROVED
        assert bill.approvals_given == 1
        assert list(bill.actions.values_list("action", flat=True)) == [
            Action.CREATED,
            Action.APPROVED,
        ]


def test_two_sales_users_racing_for_one_slot_get_one_approval(people):
    for _ in range(ROUNDS):
        bill = _one_approval_bill(people)
        outcomes = race(
            lambda: bill_approve(bill=bill.pk, user=people["sales"]),
            lambda: bill_approve(bill=bill.pk, user=people["sales2"]),
        )
        assert outcomes == ["conflict", "ok"]
        assert bill.actions.count() == 2


def test_a_racing_approval_and_rejection_do_not_both_happen(people):
    for _ in range(ROUNDS):
        bill = _one_approval_bill(people)
        outcomes = race(
            lambda: bill_approve(bill=bill.pk, user=people["sales"]),
            lambda: bill_reject(bill=bill.pk, user=people["csm"], comment="Test traffic."),
        )
        assert outcomes == ["conflict", "ok"]
        bill.refresh_from_db()
        last = bill.actions.last()
        assert bill.status == last.to_status
        assert bill.actions.count() == 2


def test_two_racing_generations_bill_each_customer_once(people):
    customers = [CustomerFactory() for _ in range(20)]
    for customer in customers:
        UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=1_500_000)
    results = []

    def generate(user):
        return lambda: results.append(bill_generate(year=YEAR, month=MONTH, user=user))

    outcomes = race(generate(people["finance"]), generate(people["finance2"]))
    assert outcomes == ["ok", "ok"]
    assert sorted(r.created for r in results) == [0, 20]
    assert sorted(r.skipped_reasons.get("already billed", 0) for r in results) == [0, 20]
    assert Bill.objects.count() == 20
    assert Bill.objects.values("customer").distinct().count() == 20
    assert BillAction.objects.count() == 20


def test_a_racing_generation_and_single_bill_bill_the_customer_once(people):
    customer = CustomerFactory()
    UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=1_500_000)
    outcomes = race(
        lambda: bill_generate(year=YEAR, month=MONTH, user=people["finance"]),
        lambda: bill_create(
            customer_id=customer.pk, year=YEAR, month=MONTH, user=people["finance2"]
        ),
    )
    assert "ok" in outcomes
    assert Bill.objects.filter(customer=customer).count() == 1
    assert BillAction.objects.count() == 1


def test_of_two_racing_creations_of_one_customer_month_one_wins(people):
    for month in range(1, ROUNDS + 1):
        customer = CustomerFactory()
        UsageFactory(customer=customer, year=YEAR, month=month, api_usage=1_500_000)
        outcomes = race(
            lambda: bill_create(
                customer_id=customer.pk, year=YEAR, month=month, user=people["finance"]
            ),
            lambda: bill_create(
                customer_id=customer.pk, year=YEAR, month=month, user=people["finance2"]
            ),
        )
        assert outcomes == ["conflict", "ok"]
        assert Bill.objects.filter(customer=customer, month=month).count() == 1
