"""Effective-dated terms: a change applies from a month on, every month is billed and
recomputed with the terms in force for it, a change flags the unsent bills it applies to, and
every change of a customer is kept (simple_history, append-only)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from billing_site.core import periods
from billing_site.core.errors import DomainError
from bills.models import Status
from bills.services import bill_approve, bill_create, bill_generate, bill_update
from customers.models import Customer, CustomerTerms
from customers.selectors import customer_terms_for
from customers.services import customer_terms_set
from tests.factories import CustomerFactory, UsageFactory

# The customer's months, oldest first, and the terms each is billed with after two changes:
# 2025-03 (limit 2,000,000) and 2025-06 (unit cost 0.01). Written out, not computed.
MONTHS = [(2025, 1), (2025, 2), (2025, 3), (2025, 4), (2025, 5), (2025, 6), (2025, 7)]
EXPECTED = {
    (2025, 1): (1_000_000, Decimal("0.0025")),
    (2025, 2): (1_000_000, Decimal("0.0025")),
    (2025, 3): (2_000_000, Decimal("0.0025")),
    (2025, 4): (2_000_000, Decimal("0.0025")),
    (2025, 5): (2_000_000, Decimal("0.0025")),
    (2025, 6): (2_000_000, Decimal("0.01")),
    (2025, 7): (2_000_000, Decimal("0.01")),
}


def _change(customer, year, month, finance, **terms):
    values = {
        "monthly_api_limit": customer.monthly_api_limit,
        "overage_unit_cost": customer.overage_unit_cost,
        "require_csm_approval": customer.require_csm_approval,
        **terms,
    }
    return customer_terms_set(
        customer=customer, effective_year=year, effective_month=month, user=finance, **values
    )


@pytest.fixture
def versioned(db, finance):
    customer = CustomerFactory(name="Versioned")
    _change(customer, 2025, 3, finance, monthly_api_limit=2_000_000)
    customer.refresh_from_db()
    _change(customer, 2025, 6, finance, overage_unit_cost=Decimal("0.01"))
    customer.refresh_from_db()
    for year, month in MONTHS:
        UsageFactory(customer=customer, year=year, month=month, api_usage=3_000_000)
    return customer


def test_each_month_has_the_terms_in_force_for_it(versioned):
    found = {
        (y, m): (t.monthly_api_limit, t.overage_unit_cost)
        for y, m in MONTHS
        for t in [customer_terms_for(customer=versioned, year=y, month=m)]
    }
    assert found == EXPECTED
    assert (versioned.monthly_api_limit, versioned.overage_unit_cost) == EXPECTED[(2025, 7)]


def test_generation_bills_each_month_with_its_terms(versioned, finance):
    for year, month in MONTHS:
        bill_generate(year=year, month=month, user=finance)
    bills = {(b.year, b.month): b for b in versioned.bills.all()}
    assert {k: (b.monthly_api_limit, b.overage_unit_cost) for k, b in bills.items()} == EXPECTED
    assert bills[(2025, 1)].overage_amount == Decimal("5000.00")  # 2,000,000 x 0.0025
    assert bills[(2025, 6)].overage_amount == Decimal("10000.00")  # 1,000,000 x 0.01


def test_create_and_recompute_use_the_months_terms_not_todays(versioned, finance):
    bill = bill_create(customer_id=versioned.pk, year=2025, month=2, user=finance)
    assert (bill.monthly_api_limit, bill.overage_unit_cost) == EXPECTED[(2025, 2)]
    bill = bill_update(bill=bill, user=finance, comment="Check.")
    assert (bill.monthly_api_limit, bill.overage_unit_cost) == EXPECTED[(2025, 2)]


def test_a_change_for_a_month_flags_its_unsent_bill_until_recomputed(versioned, finance, sales):
    bill = bill_create(customer_id=versioned.pk, year=2025, month=4, user=finance)
    bill = bill_approve(bill=bill, user=sales)
    assert not bill.terms_changed
    _change(versioned, 2025, 4, finance, monthly_api_limit=2_500_000)
    bill.refresh_from_db()
    assert bill.terms_changed and bill.inputs_changed
    from bills.services import bill_send

    with pytest.raises(DomainError) as caught:
        bill_send(bill=bill, user=finance)
    assert "terms" in caught.value.message and "recompute first" in caught.value.message
    bill = bill_update(bill=bill, user=finance, comment="New limit from April.")
    assert (bill.status, bill.monthly_api_limit, bill.terms_changed) == (
        Status.DRAFT,
        2_500_000,
        False,
    )


def test_a_change_from_a_later_month_leaves_earlier_bills_alone(versioned, finance):
    bill = bill_create(customer_id=versioned.pk, year=2025, month=4, user=finance)
    _change(versioned, 2025, 7, finance, monthly_api_limit=9_000_000)
    bill.refresh_from_db()
    assert not bill.terms_changed


def test_terms_cannot_start_in_a_future_month(versioned, finance):
    today = periods.today()
    year, month = (today.year + 1, 1)
    with pytest.raises(DomainError) as caught:
        _change(versioned, year, month, finance, monthly_api_limit=1)
    assert "effective_month" in caught.value.errors


def test_the_admin_makes_a_version_from_the_chosen_month(staff_client, finance, customer):
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    data = {
        "name": customer.name,
        "billing_address": customer.billing_address,
        "billing_email": customer.billing_email,
        "csm": customer.csm_id,
        "monthly_api_limit": 5_000_000,
        "overage_unit_cost": customer.overage_unit_cost,
        "payment_terms_days": 30,
        "start_date": customer.start_date.isoformat(),
        "terms_from": "2025-02",
        "usage_records-TOTAL_FORMS": "0",
        "usage_records-INITIAL_FORMS": "0",
        "terms_versions-TOTAL_FORMS": "0",
        "terms_versions-INITIAL_FORMS": "0",
    }
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    versions = list(
        CustomerTerms.objects.filter(customer=customer).values_list(
            "effective_year", "effective_month", "monthly_api_limit"
        )
    )
    assert versions == [(2000, 1, 1_000_000), (2025, 2, 5_000_000)]
    assert customer_terms_for(customer=customer, year=2025, month=1).monthly_api_limit == 1_000_000
    customer.refresh_from_db()
    assert customer.monthly_api_limit == 5_000_000
    history = customer.history.order_by("-history_date").first()
    assert history.monthly_api_limit == 5_000_000 and history.history_user is not None


def test_every_change_of_a_customer_is_kept_and_history_is_append_only(db, finance):
    customer = CustomerFactory(name="Before")
    customer.name = "After"
    customer.save()
    names = list(customer.history.order_by("history_date").values_list("name", flat=True))
    assert names == ["Before", "After"]
    row = customer.history.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        type(row).objects.filter(pk=row.pk).update(name="Forged")
    assert Customer.objects.get(pk=customer.pk).name == "After"


def test_lists_and_pages_say_which_bills_were_computed_with_old_terms(
    versioned, finance, api_as, page_as
):
    bill = bill_create(customer_id=versioned.pk, year=2025, month=4, user=finance)
    other = bill_create(customer_id=versioned.pk, year=2025, month=2, user=finance)
    _change(versioned, 2025, 4, finance, monthly_api_limit=2_500_000)
    results = api_as(finance).get("/api/bills?page_size=10").json()["results"]
    assert {r["id"]: r["terms_changed"] for r in results} == {bill.pk: True, other.pk: False}
    html = page_as(finance).get(f"/bills/{bill.pk}").content.decode()
    assert "terms for April 2025 changed after this bill was computed" in html
    dashboard = page_as(finance).get("/dashboard").content.decode()
    assert dashboard.count(">terms changed</span>") == 1


def test_the_customer_page_shows_the_terms_timeline(versioned, page_as, sales):
    html = page_as(sales).get(f"/customers/{versioned.pk}").content.decode()
    timeline = html.split('id="terms-timeline-title"')[1].split("</table>")[0].split("<tbody>")[1]
    rows = [
        re.sub(r"<[^>]+>|\s+", " ", r).split()
        for r in re.findall(r"<tr>(.*?)</tr>", timeline, re.S)
    ]
    assert [r[:2] for r in rows] == [["Jun", "2025"], ["Mar", "2025"], ["the", "start"]]
    assert "USD\xa00.01" in timeline and "2,000,000" in timeline and "1,000,000" in timeline
