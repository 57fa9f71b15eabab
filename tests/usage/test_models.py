"""Each rule of the usage tables is held by the database itself, not only by Python: a month per
customer, its ranges, and revisions that nobody can edit or delete."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from customers.models import Customer
from tests.factories import CustomerFactory, UsageFactory, refused_by_the_database
from usage.models import Usage, UsageRevision
from usage.services import usage_record

BIG = 9_000_000_000_000_000_000  # fits a signed 64-bit integer, not a 32-bit one


def test_usage_is_unique_per_customer_month(db):
    usage = UsageFactory(year=2026, month=3)
    refused_by_the_database(
        lambda: Usage.objects.create(customer=usage.customer, year=2026, month=3, api_usage=1)
    )


@pytest.mark.parametrize("month", [0, 13])
def test_usage_month_must_be_1_to_12(db, month):
    customer = CustomerFactory()
    refused_by_the_database(
        lambda: Usage.objects.create(customer=customer, year=2026, month=month, api_usage=1)
    )


def test_usage_cannot_be_negative(db):
    customer = CustomerFactory()
    refused_by_the_database(
        lambda: Usage.objects.create(customer=customer, year=2026, month=1, api_usage=-1)
    )


def test_usage_and_limits_are_64_bit(db):
    customer = CustomerFactory(monthly_api_limit=BIG)
    Usage.objects.create(customer=customer, year=2026, month=1, api_usage=BIG + 1)
    customer.refresh_from_db()
    assert customer.monthly_api_limit == BIG
    assert Usage.objects.get(customer=customer).api_usage == BIG + 1


# --- revisions are append-only -------------------------------------------------------------------


@pytest.fixture
def revision(db, customer, finance):
    usage_record(customer=customer, year=2025, month=3, api_usage=10, user=finance)
    return UsageRevision.objects.get()


def test_the_model_refuses_to_edit_or_delete_a_revision(revision):
    revision.new_value = 99
    with pytest.raises(PermissionError):
        revision.save()
    with pytest.raises(PermissionError):
        revision.delete()
    with pytest.raises(PermissionError):
        UsageRevision.objects.filter(pk=revision.pk).update(new_value=99)
    with pytest.raises(PermissionError):
        UsageRevision.objects.filter(pk=revision.pk).delete()
    revision.refresh_from_db()
    assert revision.new_value == 10


def test_the_database_refuses_to_edit_a_revision(revision):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE usage_usagerevision SET new_value = %s WHERE id = %s", [99, revision.pk]
        )
    revision.refresh_from_db()
    assert revision.new_value == 10


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="tests open SQLite's DELETE hatch (tests/core/test_maintenance.py closes it)",
)
def test_the_database_refuses_to_delete_a_revision(revision):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM usage_usagerevision WHERE id = %s", [revision.pk])
    assert UsageRevision.objects.filter(pk=revision.pk).exists()


def test_a_month_with_revisions_and_its_customer_cannot_be_deleted(revision, customer):
    with pytest.raises(ProtectedError):
        revision.usage.delete()
    with pytest.raises(ProtectedError):
        Customer.objects.filter(pk=customer.pk).delete()
    assert UsageRevision.objects.count() == 1


def test_a_revision_names_a_known_source(revision):
    refused_by_the_database(
        lambda: UsageRevision.objects.create(
            usage=revision.usage, new_value=1, user=revision.user, source="email"
        )
    )
