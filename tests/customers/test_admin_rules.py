"""The admin obeys the rules of the pages and the API, through the validation the services use:
a negative limit or unit cost, terms from a future month and a CSM who is not Customer Success
are form errors on the customer; usage for a month that has not started, or below zero, is a
form error on the usage row (its own page and the customer's inline). Nothing is saved."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing_site.core import periods
from customers.models import Customer, CustomerTerms
from usage.models import Usage

pytestmark = pytest.mark.django_db

INLINES = {
    "usage_records-TOTAL_FORMS": "0",
    "usage_records-INITIAL_FORMS": "0",
    "terms_versions-TOTAL_FORMS": "0",
    "terms_versions-INITIAL_FORMS": "0",
}
NEGATIVE = "-5 is out of range: usage must be between 0 and 9223372036854775807."
REVISIONS = {"revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0"}


def _next_month() -> tuple[int, int]:
    today = periods.today()
    return periods.next_month(today.year, today.month)


def _customer_data(customer, **changes) -> dict:
    data = {
        "name": customer.name,
        "billing_address": customer.billing_address,
        "billing_email": customer.billing_email,
        "csm": customer.csm_id,
        "monthly_api_limit": customer.monthly_api_limit,
        "overage_unit_cost": customer.overage_unit_cost,
        "payment_terms_days": 30,
        "start_date": customer.start_date.isoformat(),
        **INLINES,
    }
    return {**data, **changes}


# change -> the field that refuses it and its message, as the services word it
CUSTOMER_REFUSALS = [
    (
        {"monthly_api_limit": "-1"},
        "monthly_api_limit",
        "Enter a limit from 0 to 9223372036854775807 API calls.",
    ),
    ({"overage_unit_cost": "-0.0025"}, "overage_unit_cost", "The unit cost cannot be negative."),
    (
        {"monthly_api_limit": "5", "terms_from": "next"},
        "terms_from",
        "Terms can take effect from this month or an earlier one, not a future month.",
    ),
    ({"csm": "sales"}, "csm", "The CSM must be a Customer Success user."),
]


@pytest.mark.parametrize(("change", "field", "message"), CUSTOMER_REFUSALS)
def test_the_customer_admin_refuses_what_the_services_refuse(
    staff_client, customer, sales, change, field, message
):
    if change.get("terms_from") == "next":
        change = {**change, "terms_from": "{}-{:02d}".format(*_next_month())}
    if change.get("csm") == "sales":
        change = {**change, "csm": sales.pk}
    before = Customer.objects.values().get(pk=customer.pk)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    response = staff_client.post(url, _customer_data(customer, **change))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    assert Customer.objects.values().get(pk=customer.pk) == before
    assert not CustomerTerms.objects.exists()


def test_a_new_customer_with_a_negative_limit_is_refused(staff_client, customer):
    data = _customer_data(customer, name="Newco", monthly_api_limit="-5")
    response = staff_client.post(reverse("admin:customers_customer_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["monthly_api_limit"] == [
        "Enter a limit from 0 to 9223372036854775807 API calls."
    ]
    assert not Customer.objects.filter(name="Newco").exists()


def test_the_customer_admin_saves_valid_terms_as_a_version(staff_client, customer, staff):
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    response = staff_client.post(url, _customer_data(customer, monthly_api_limit="7"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.monthly_api_limit == 7


def test_the_usage_admin_refuses_a_month_that_has_not_started(staff_client, customer):
    year, month = _next_month()
    data = {"customer": customer.pk, "year": year, "month": month, "api_usage": 5}
    response = staff_client.post(reverse("admin:usage_usage_add"), data | REVISIONS)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "month": [
            f"{year}-{month:02d} is in the future; usage can be recorded once the month starts."
        ]
    }
    assert not Usage.objects.exists()


def test_the_customer_usage_inline_refuses_a_month_that_has_not_started(staff_client, customer):
    year, month = _next_month()
    data = _customer_data(
        customer,
        **{
            "usage_records-TOTAL_FORMS": "1",
            "usage_records-0-year": str(year),
            "usage_records-0-month": str(month),
            "usage_records-0-api_usage": "5",
        },
    )
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    response = staff_client.post(url, data)
    assert response.status_code == 200
    usage = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "usage_records"
    )
    assert usage.formset.errors == [
        {
            "month": [
                f"{year}-{month:02d} is in the future; usage can be recorded once the month starts."
            ]
        }
    ]
    assert not Usage.objects.exists()


def test_the_customer_usage_inline_refuses_a_negative_count(staff_client, customer):
    data = _customer_data(
        customer,
        **{
            "usage_records-TOTAL_FORMS": "1",
            "usage_records-0-year": "2025",
            "usage_records-0-month": "3",
            "usage_records-0-api_usage": "-5",
        },
    )
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    response = staff_client.post(url, data)
    assert response.status_code == 200
    usage = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "usage_records"
    )
    assert usage.formset.errors == [{"api_usage": [NEGATIVE]}]
    assert not Usage.objects.exists()


def test_the_usage_admin_refuses_a_negative_count(staff_client, customer):
    data = {"customer": customer.pk, "year": 2025, "month": 3, "api_usage": -5}
    response = staff_client.post(reverse("admin:usage_usage_add"), data | REVISIONS)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"api_usage": [NEGATIVE]}
    assert not Usage.objects.exists()
