"""Usage in the admin: every change goes through the recording service, with a revision whose
source is "admin"; a month is never deleted; its revisions are listed read-only."""

import re

import pytest
from django.urls import reverse

from billing_site.core import periods
from tests.factories import UsageFactory, UserFactory
from usage.models import Usage, UsageRevision
from usage.services import usage_record

pytestmark = pytest.mark.django_db

ADD = reverse("admin:usage_usage_add")
# The read-only revisions inline's management form, as the browser posts it.
REVISIONS = {"revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0"}


def change_url(usage) -> str:
    return reverse("admin:usage_usage_change", args=[usage.pk])


def test_staff_add_a_month_with_a_revision(staff_client, staff, customer):
    data = {"customer": customer.pk, "year": 2025, "month": 3, "api_usage": 1_250_000}
    response = staff_client.post(ADD, data | REVISIONS)
    assert response.status_code == 302, response.content.decode()[:3000]
    usage = Usage.objects.get()
    assert (usage.customer, usage.api_usage) == (customer, 1_250_000)
    revision = UsageRevision.objects.get()
    assert (revision.usage, revision.old_value, revision.new_value) == (usage, None, 1_250_000)
    assert (revision.user, revision.source, revision.file_name) == (staff, "admin", "")


def test_staff_change_a_total_and_the_revision_keeps_the_old_one(staff_client, staff, customer):
    usage = UsageFactory(customer=customer, year=2025, month=3, api_usage=900_000)
    response = staff_client.post(change_url(usage), {"api_usage": 1_000_000} | REVISIONS)
    assert response.status_code == 302, response.content.decode()[:3000]
    usage.refresh_from_db()
    assert usage.api_usage == 1_000_000
    assert list(UsageRevision.objects.values_list("old_value", "new_value", "source", "user")) == [
        (900_000, 1_000_000, "admin", staff.pk)
    ]


def test_saving_the_same_total_writes_no_revision(staff_client, customer):
    usage = UsageFactory(customer=customer, year=2025, month=3, api_usage=900_000)
    assert (
        staff_client.post(change_url(usage), {"api_usage": 900_000} | REVISIONS).status_code == 302
    )
    assert not UsageRevision.objects.exists()


def test_a_recorded_month_keeps_its_customer_and_month(staff_client, customer):
    usage = UsageFactory(customer=customer, year=2025, month=3, api_usage=1)
    form = staff_client.get(change_url(usage)).content.decode()
    assert 'name="api_usage"' in form
    assert 'name="month"' not in form and 'name="customer"' not in form


def test_the_service_refuses_in_the_form(staff_client, customer):
    today = periods.today()
    year, month = periods.next_month(today.year, today.month)
    data = {"customer": customer.pk, "year": year, "month": month, "api_usage": 5}
    response = staff_client.post(ADD, data | REVISIONS)
    assert response.status_code == 200
    assert f"{year}-{month:02d} is in the future" in response.content.decode()
    assert not Usage.objects.exists()


def test_a_staff_user_who_may_not_record_usage_is_refused(client, customer):
    client.force_login(UserFactory(name="sid", role="Sales", is_staff=True, is_superuser=True))
    data = {"customer": customer.pk, "year": 2025, "month": 3, "api_usage": 5}
    response = client.post(ADD, data | REVISIONS)
    assert response.status_code == 200
    assert "Your role (Sales) may not record usage." in response.content.decode()
    assert not Usage.objects.exists()


def test_a_month_cannot_be_deleted_in_the_admin(staff_client, customer):
    usage = UsageFactory(customer=customer)
    url = reverse("admin:usage_usage_delete", args=[usage.pk])
    assert staff_client.post(url, {"post": "yes"}).status_code == 403
    assert Usage.objects.filter(pk=usage.pk).exists()


def test_the_revisions_are_listed_read_only(staff_client, finance, customer):
    usage_record(customer=customer, year=2025, month=3, api_usage=5, user=finance)
    usage_record(customer=customer, year=2025, month=3, api_usage=8, user=finance)
    html = staff_client.get(change_url(Usage.objects.get())).content.decode()
    assert "Revisions (newest first)" in html
    assert "revisions-0-new_value" not in html  # nothing to edit
    assert re.search(r"fiona.*?page.*?5.*?8", html, re.S)


def _customer_form(customer, **usage_rows) -> dict:
    data = {
        "name": customer.name,
        "billing_address": customer.billing_address,
        "billing_email": customer.billing_email,
        "csm": customer.csm_id or "",
        "monthly_api_limit": customer.monthly_api_limit,
        "overage_unit_cost": customer.overage_unit_cost,
        "payment_terms_days": 30,
        "start_date": customer.start_date.isoformat(),
        "terms_versions-TOTAL_FORMS": "0",
        "terms_versions-INITIAL_FORMS": "0",
    }
    return data | usage_rows


def test_the_customer_admin_saves_its_usage_inline_through_the_service(
    staff_client, staff, customer
):
    march = UsageFactory(customer=customer, year=2025, month=3, api_usage=10)
    april = UsageFactory(customer=customer, year=2025, month=4, api_usage=20)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    data = _customer_form(
        customer,
        **{
            "usage_records-TOTAL_FORMS": "3",
            "usage_records-INITIAL_FORMS": "2",
            "usage_records-0-id": april.pk,
            "usage_records-0-customer": customer.pk,
            "usage_records-0-api_usage": "25",
            "usage_records-1-id": march.pk,
            "usage_records-1-customer": customer.pk,
            "usage_records-1-api_usage": "10",
            "usage_records-2-customer": customer.pk,
            "usage_records-2-year": "2025",
            "usage_records-2-month": "5",
            "usage_records-2-api_usage": "30",
        },
    )
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:4000]
    assert sorted(Usage.objects.values_list("month", "api_usage")) == [(3, 10), (4, 25), (5, 30)]
    assert sorted(
        UsageRevision.objects.values_list("usage__month", "old_value", "new_value", "source")
    ) == [(4, 20, 25, "admin"), (5, None, 30, "admin")]
    assert set(UsageRevision.objects.values_list("user", flat=True)) == {staff.pk}


def test_the_customer_admin_shows_the_services_refusal_on_the_row(staff_client, customer):
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    today = periods.today()
    year, month = periods.next_month(today.year, today.month)
    data = _customer_form(
        customer,
        **{
            "usage_records-TOTAL_FORMS": "1",
            "usage_records-INITIAL_FORMS": "0",
            "usage_records-0-customer": customer.pk,
            "usage_records-0-year": str(year),
            "usage_records-0-month": str(month),
            "usage_records-0-api_usage": "30",
        },
    )
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert f"{year}-{month:02d} is in the future" in response.content.decode()
    assert not Usage.objects.exists()


def test_a_new_customer_gets_its_months_once_saved(staff_client):
    html = staff_client.get(reverse("admin:customers_customer_add")).content.decode()
    assert 'name="usage_records-0-api_usage"' not in html
    assert re.search(r'name="usage_records-MAX_NUM_FORMS" value="0"', html)
