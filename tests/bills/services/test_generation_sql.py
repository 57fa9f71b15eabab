"""The month end's set-based SQL (services.generation_sql, PostgreSQL) bills exactly what SPEC
"Computing a bill" says, case by case: a table of customers with the bill (or skip reason) each
must get, written here by hand, then the same month run through the Python computation
(services.pricing, as bill_create computes) must give the same bills column for column."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection, transaction

from bills.models import Bill, BillAction, Status
from bills.services import bill_generate, generation
from customers.models import CustomerTerms
from tests.factories import MONTH, YEAR, CustomerFactory, UsageFactory, make_bill

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the set-based path is PostgreSQL's"
    ),
]

# name: (usage in March 2025 or None for no row, the customer's own columns, terms versions as
# (year, month, limit, unit cost, needs CSM), contract (start, end)) -> the bill expected as
# (usage, limit, units, unit cost, amount, needs CSM) or the skip reason.
BIG = 9_000_000_000_000_000_000
CASES = {
    "own terms": (
        1_500_000,
        (1_000_000, "0.002500", False),
        [],
        None,
        (1_500_000, 1_000_000, 500_000, "0.002500", "1250.00", False),
    ),
    "needs CSM": (
        1_000_004,
        (1_000_000, "0.002500", True),
        [],
        None,
        (1_000_004, 1_000_000, 4, "0.002500", "0.01", True),
    ),
    "half a cent rounds up": (
        1_000_005,
        (1_000_000, "0.001000", False),
        [],
        None,
        (1_000_005, 1_000_000, 5, "0.001000", "0.01", False),
    ),
    "rounds to zero": (
        1_000_004,
        (1_000_000, "0.001000", False),
        [],
        None,
        "amount rounds to 0.00",
    ),
    "at the limit": (1_000_000, (1_000_000, "0.002500", False), [], None, "no overage"),
    "no usage row": (None, (0, "0.002500", False), [], None, "no overage"),
    "free calls": (5_000_000, (1_000_000, "0.000000", False), [], None, "amount rounds to 0.00"),
    "huge": (
        BIG,
        (0, "99999999.999999", False),
        [],
        None,
        (BIG, 0, BIG, "99999999.999999", "899999999999991000000000000.00", False),
    ),
    "version before the month": (
        3_000_000,
        (1_000_000, "0.002500", False),
        [(2024, 1, 2_000_000, "0.001000", True), (2025, 4, 2_900_000, "0.500000", False)],
        None,
        (3_000_000, 2_000_000, 1_000_000, "0.001000", "1000.00", True),
    ),
    "version from the month": (
        3_000_000,
        (1_000_000, "0.002500", False),
        [(2024, 1, 2_000_000, "0.001000", False), (2025, 3, 2_500_000, "0.002000", False)],
        None,
        (3_000_000, 2_500_000, 500_000, "0.002000", "1000.00", False),
    ),
    "only versions after": (
        3_000_000,
        (1_000_000, "0.002500", False),
        [(2025, 6, 2_800_000, "0.003000", False), (2025, 9, 100, "0.900000", True)],
        None,
        (3_000_000, 2_800_000, 200_000, "0.003000", "600.00", False),
    ),
    "ended before": (
        2_000_000,
        (1_000_000, "0.002500", False),
        [],
        (date(2020, 1, 1), date(2025, 2, 28)),
        "not under contract",
    ),
    "starts after": (
        2_000_000,
        (1_000_000, "0.002500", False),
        [],
        (date(2025, 4, 1), None),
        "not under contract",
    ),
    "ends in the month": (
        2_000_000,
        (1_000_000, "0.002500", False),
        [],
        (date(2020, 1, 1), date(2025, 3, 1)),
        (2_000_000, 1_000_000, 1_000_000, "0.002500", "2500.00", False),
    ),
    "starts on the last day": (
        2_000_000,
        (1_000_000, "0.002500", False),
        [],
        (date(2025, 3, 31), None),
        (2_000_000, 1_000_000, 1_000_000, "0.002500", "2500.00", False),
    ),
}


@pytest.fixture
def month(finance):
    made = {}
    for name, (usage, own, versions, contract, _expected) in CASES.items():
        limit, cost, csm = own
        start, end = contract or (date(2020, 1, 1), None)
        customer = CustomerFactory(
            name=name,
            monthly_api_limit=limit,
            overage_unit_cost=Decimal(cost),
            require_csm_approval=csm,
            start_date=start,
            end_date=end,
        )
        if usage is not None:
            UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=usage)
        for year, month_, v_limit, v_cost, v_csm in versions:
            CustomerTerms.objects.create(
                customer=customer,
                effective_year=year,
                effective_month=month_,
                monthly_api_limit=v_limit,
                overage_unit_cost=Decimal(v_cost),
                require_csm_approval=v_csm,
            )
        made[name] = customer
    # Billed already (a live draft): skipped. Voided: billed again by the month end.
    made["billed"] = make_bill(finance=finance, year=YEAR, month=MONTH, name="billed").customer
    void = make_bill(finance=finance, year=YEAR, month=MONTH, name="voided")
    Bill.objects.filter(pk=void.pk).update(status=Status.VOID)
    made["voided"] = void.customer
    return made


def _bills(result) -> dict[str, tuple]:
    bills = Bill.objects.filter(pk__in=result.bill_ids).select_related("customer", "terms")
    return {
        b.customer.name: (
            b.api_usage,
            b.monthly_api_limit,
            b.overage_units,
            str(b.overage_unit_cost),
            str(b.overage_amount),
            b.requires_csm_approval,
            b.terms_id,
            b.status,
            b.currency,
            str(b.amount_paid),
            b.version,
            b.replaces_id,
            b.year,
            b.month,
        )
        for b in bills
    }


def test_each_case_gets_the_bill_the_spec_computes(month, finance):
    result = bill_generate(year=YEAR, month=MONTH, user=finance)
    bills = _bills(result)
    skipped = {c.name: reason for reason, cs in result.skipped_customers.items() for c in cs}
    for name, (*_inputs, expected) in CASES.items():
        if isinstance(expected, str):
            assert skipped.get(name) == expected, name
            assert name not in bills, name
        else:
            assert bills[name][:6] == (
                expected[0],
                expected[1],
                expected[2],
                expected[3],
                expected[4],
                expected[5],
            ), name
            assert bills[name][7:] == (
                Status.DRAFT,
                settings.CURRENCY,
                "0.00",
                1,
                None,
                YEAR,
                MONTH,
            ), name
    assert skipped["billed"] == "already billed"
    assert "voided" in bills
    # The terms version in force is the one the bill points at.
    in_force = CustomerTerms.objects.get(
        customer=month["version before the month"], effective_year=2024
    )
    assert bills["version before the month"][6] == in_force.pk
    assert bills["own terms"][6] is None
    assert result.created == len(bills) == 10
    assert result.skipped == 7
    assert result.skipped_reasons == {
        "amount rounds to 0.00": 2,
        "no overage": 2,
        "not under contract": 2,
        "already billed": 1,
    }


def test_each_bill_has_one_created_row_naming_who_ran_it(month, finance):
    result = bill_generate(year=YEAR, month=MONTH, user=finance)
    rows = BillAction.objects.filter(bill_id__in=result.bill_ids)
    assert rows.count() == len(result.bill_ids)
    for row in rows.select_related("bill"):
        assert (row.action, row.from_status, row.to_status, row.changes, row.comment) == (
            "created",
            "",
            "draft",
            {},
            "",
        )
        assert (row.stakeholder_id, row.stakeholder_name, row.stakeholder_role) == (
            finance.pk,
            finance.name,
            finance.role,
        )
        assert row.created_at == row.bill.created_at == row.bill.computed_at


def test_the_sql_and_the_python_computation_make_the_same_month(month, finance, monkeypatch):
    with transaction.atomic():
        by_sql = bill_generate(year=YEAR, month=MONTH, user=finance)
        sql_bills = _bills(by_sql)
        transaction.set_rollback(True)
    monkeypatch.setattr(generation, "_generate_sql", generation._generate_python)
    by_python = bill_generate(year=YEAR, month=MONTH, user=finance)
    assert _bills(by_python) == sql_bills
    assert by_python.skipped_reasons == by_sql.skipped_reasons
    assert by_python.skipped_customers == by_sql.skipped_customers
    assert (by_python.created, by_python.skipped) == (by_sql.created, by_sql.skipped)


def test_chunks_bill_every_customer_once_and_report_progress(month, finance, monkeypatch):
    monkeypatch.setattr(generation, "PROGRESS_EVERY", 4)
    heard = []
    result = bill_generate(
        year=YEAR, month=MONTH, user=finance, counted=lambda done, total: heard.append(done)
    )
    customers = len(CASES) + 2
    assert heard == [0, 4, 8, 12, 16, customers, customers]
    assert result.created + result.skipped == customers
    assert result.created == 10
    # Every skipped customer is named once, in name order, across chunks.
    names = [c.name for cs in result.skipped_customers.values() for c in cs]
    assert len(names) == len(set(names)) == result.skipped


def test_a_second_run_bills_nothing_and_says_why(month, finance):
    first = bill_generate(year=YEAR, month=MONTH, user=finance)
    again = bill_generate(year=YEAR, month=MONTH, user=finance)
    assert again.created == 0 and again.bill_ids == []
    assert again.skipped_reasons["already billed"] == first.created + 1
