"""GET /api/usage/{id}/revisions: a month's changes, newest first, for every signed-in user."""

from __future__ import annotations

import pytest

from tests.factories import UsageFactory
from usage.models import Usage, UsageRevision
from usage.services import usage_record

pytestmark = pytest.mark.django_db


def url(usage_id: int) -> str:
    return f"/api/usage/{usage_id}/revisions"


@pytest.fixture
def march(customer, finance, api_as):
    """Acme's March 2025: recorded on the page, then replaced through the API."""
    usage_record(customer=customer, year=2025, month=3, api_usage=900_000, user=finance)
    item = {"customer_id": customer.pk, "year": 2025, "month": 3, "api_usage": 1_250_000}
    assert api_as(finance).post("/api/usage", item).status_code == 200
    return Usage.objects.get(customer=customer, year=2025, month=3)


def test_the_revisions_are_listed_newest_first(finance, api_as, march):
    first, second = UsageRevision.objects.order_by("id")
    body = api_as(finance).get(url(march.pk)).json()
    assert body["count"] == 2
    assert body["results"] == [
        {
            "id": second.pk,
            "usage_id": march.pk,
            "old_value": 900_000,
            "new_value": 1_250_000,
            "user_id": finance.pk,
            "user_name": "fiona",
            "source": "api",
            "file_name": "",
            "created_at": body["results"][0]["created_at"],
        },
        {
            "id": first.pk,
            "usage_id": march.pk,
            "old_value": None,
            "new_value": 900_000,
            "user_id": finance.pk,
            "user_name": "fiona",
            "source": "page",
            "file_name": "",
            "created_at": body["results"][1]["created_at"],
        },
    ]
    assert body["results"][0]["created_at"] >= body["results"][1]["created_at"]


def test_newest_first_is_by_time_not_by_id(finance, api_as, march):
    # Two revisions written in one second keep their order by id.
    first, second = UsageRevision.objects.order_by("id")
    assert [r["id"] for r in api_as(finance).get(url(march.pk)).json()["results"]] == [
        second.pk,
        first.pk,
    ]


def test_values_past_2_53_stay_exact(finance, api_as, customer):
    usage_record(customer=customer, year=2025, month=3, api_usage=2**63 - 1, user=finance)
    usage = Usage.objects.get()
    body = api_as(finance).get(url(usage.pk)).json()
    assert body["results"][0]["new_value"] == 2**63 - 1


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 401), ("finance", 200), ("sales", 200), ("csm", 200), ("other_csm", 200)],
)
def test_every_signed_in_user_may_read_revisions(client_for, role, status, march):
    response = client_for(role).get(url(march.pk))
    assert response.status_code == status
    if status == 200:
        assert response.json()["count"] == 2


def test_an_unknown_month_is_a_404(finance, api_as):
    response = api_as(finance).get(url(987654))
    assert response.status_code == 404
    assert response.json() == {"detail": "Usage #987654 does not exist."}


def test_a_month_recorded_before_revisions_has_none(finance, api_as):
    usage = UsageFactory()
    assert api_as(finance).get(url(usage.pk)).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_writes_are_refused(finance, api_as, march):
    client = api_as(finance)
    assert client.post(url(march.pk), {}).status_code == 405
    assert client.delete(url(march.pk)).status_code == 405
    assert UsageRevision.objects.count() == 2


def test_the_list_is_paginated(finance, api_as, customer):
    for value in range(1, 8):
        usage_record(customer=customer, year=2025, month=3, api_usage=value, user=finance)
    usage = Usage.objects.get()
    body = api_as(finance).get(url(usage.pk), {"page_size": 3}).json()
    assert body["count"] == 7
    assert [r["new_value"] for r in body["results"]] == [7, 6, 5]


def test_the_openapi_document_describes_the_endpoint(db, client, finance):
    client.force_login(finance)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/usage/{id}/revisions"]["get"]
    assert operation["summary"] == "A month's revisions"
    assert set(operation["responses"]) == {"200", "400", "401", "404"}
    fields = schema["components"]["schemas"]["UsageRevision"]["properties"]
    assert set(fields) == {
        "id",
        "usage_id",
        "old_value",
        "new_value",
        "user_id",
        "user_name",
        "source",
        "file_name",
        "created_at",
    }
    result = schema["components"]["schemas"]["UsageResult"]["properties"]
    assert set(result) == {"created", "updated", "unchanged"}


def test_the_list_stays_at_a_fixed_number_of_queries(
    finance, api_as, customer, django_assert_max_num_queries
):
    for value in range(1, 30):
        usage_record(customer=customer, year=2025, month=3, api_usage=value, user=finance)
    usage = Usage.objects.get()
    with django_assert_max_num_queries(4):
        assert api_as(finance).get(url(usage.pk)).status_code == 200
