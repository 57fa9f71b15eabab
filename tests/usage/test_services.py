"""Recording usage: Finance only, one row per customer-month, and a bad item refuses the batch."""

import pytest

from billing_site.core import periods
from billing_site.core.errors import DomainError
from tests.factories import CustomerFactory
from usage.models import Usage
from usage.services import MAX_ITEMS, MAX_USAGE, usage_record, usage_record_many

YEAR, MONTH = 2025, 3


def item(customer, **overrides):
    return {"customer_id": customer.pk, "year": YEAR, "month": MONTH, "api_usage": 10} | overrides


def refused(items, user):
    with pytest.raises(DomainError) as caught:
        usage_record_many(items=items, user=user)
    assert caught.value.kind == "invalid", caught.value.message
    assert not Usage.objects.exists()
    return caught.value


def test_it_records_a_month_of_usage(customer, finance):
    result = usage_record(customer=customer, year=YEAR, month=MONTH, api_usage=1_500, user=finance)
    assert (result.created, result.updated) == (1, 0)
    assert Usage.objects.get(customer=customer, year=YEAR, month=MONTH).api_usage == 1_500


def test_recording_the_same_month_again_replaces_the_total(customer, finance):
    usage_record(customer=customer, year=YEAR, month=MONTH, api_usage=1_500, user=finance)
    result = usage_record(customer=customer, year=YEAR, month=MONTH, api_usage=2_000, user=finance)
    assert (result.created, result.updated) == (0, 1)
    assert Usage.objects.get().api_usage == 2_000


def test_a_batch_counts_created_and_updated_rows(customer, finance):
    other = CustomerFactory()
    usage_record(customer=customer, year=YEAR, month=MONTH, api_usage=1, user=finance)
    result = usage_record_many(
        items=[item(customer, api_usage=5), item(other), item(customer, month=4)], user=finance
    )
    assert (result.created, result.updated) == (2, 1)
    assert Usage.objects.count() == 3


@pytest.mark.parametrize("role", ["sales", "csm", "other_csm"])
def test_only_finance_may_record_usage(role, users, customer):
    with pytest.raises(DomainError) as caught:
        usage_record(customer=customer, year=YEAR, month=MONTH, api_usage=1, user=users[role])
    assert caught.value.kind == "forbidden"
    assert not Usage.objects.exists()


def test_64_bit_usage_is_accepted(customer, finance):
    usage_record_many(items=[item(customer, api_usage=MAX_USAGE)], user=finance)
    assert Usage.objects.get().api_usage == 2**63 - 1


def test_digit_strings_are_accepted(customer, finance):
    usage_record_many(
        items=[{"customer_id": str(customer.pk), "year": "2025", "month": "03", "api_usage": "7"}],
        user=finance,
    )
    assert Usage.objects.get().api_usage == 7


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"api_usage": -1}, "api_usage"),
        ({"api_usage": MAX_USAGE + 1}, "api_usage"),
        ({"api_usage": 1.5}, "api_usage"),
        ({"api_usage": True}, "api_usage"),
        ({"api_usage": "ten"}, "api_usage"),
        ({"api_usage": None}, "api_usage"),
        ({"month": 13}, "month"),
        ({"month": 0}, "month"),
        ({"year": 1999}, "year"),
        ({"customer_id": 987654}, "customer_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_item_is_refused_with_its_field(overrides, field, customer, finance):
    error = refused([item(customer, **overrides)], finance)
    assert field in error.errors["0"]


def test_one_bad_item_refuses_the_whole_batch(customer, finance):
    error = refused([item(customer), item(customer, month=4, api_usage=-5)], finance)
    assert set(error.errors) == {"1"}
    assert "api_usage" in error.errors["1"]
    assert "1 of 2" in error.message


def test_a_customer_month_twice_in_one_batch_is_refused(customer, finance):
    error = refused([item(customer), item(customer, api_usage=20)], finance)
    assert set(error.errors) == {"1"}


def test_a_future_month_is_refused_but_the_current_one_is_recorded(customer, finance):
    today = periods.today()
    future_year, future_month = periods.next_month(today.year, today.month)
    error = refused([item(customer, year=future_year, month=future_month)], finance)
    assert "month" in error.errors["0"]
    usage_record_many(items=[item(customer, year=today.year, month=today.month)], user=finance)
    assert Usage.objects.count() == 1


@pytest.mark.parametrize("items", [[], {}, "usage", None])
def test_an_empty_or_malformed_batch_is_refused(items, finance):
    error = refused(items, finance)
    assert "items" in error.errors


def test_a_batch_over_the_limit_is_refused(customer, finance):
    error = refused([item(customer)] * (MAX_ITEMS + 1), finance)
    assert "items" in error.errors


def test_an_item_that_is_not_an_object_is_refused(customer, finance):
    error = refused([item(customer), ["not", "an", "object"]], finance)
    assert set(error.errors) == {"1"}


@pytest.mark.parametrize(
    "customer_id", [0, -1, 2**63, 2**64, -(2**64), "99999999999999999999", 1e300]
)
def test_a_customer_id_outside_64_bits_is_refused_before_any_query(customer, finance, customer_id):
    # SQLite cannot bind an integer past 64 bits: the lookup of known customers raised
    # OverflowError (a 500) instead of naming the bad item.
    error = refused([item(customer), item(customer, customer_id=customer_id, month=4)], finance)
    assert error.errors == {
        "1": {"customer_id": ["Enter a customer id from 1 to 9223372036854775807."]}
    }
