"""Recording usage: the row schema, Finance only, one row per customer-month, a bad item refuses
the batch with structured errors naming the bad value, and the check-only entry that writes
nothing. Revisions of each write are in test_revisions.py."""

import pytest

from billing_site.core import periods
from billing_site.core.errors import DomainError
from tests.factories import MONTH, YEAR, CustomerFactory
from usage.models import Usage, UsageRevision, UsageSource
from usage.services import (
    MAX_ITEMS,
    MAX_USAGE,
    TEXT,
    UsageRow,
    UsageRowError,
    UsageRowsError,
    usage_check_many,
    usage_record,
    usage_record_many,
    usage_row_parse,
)


def item(customer, **overrides):
    return {"customer_id": customer.pk, "year": YEAR, "month": MONTH, "api_usage": 10} | overrides


API = UsageSource.API


def refused(items, user):
    with pytest.raises(DomainError) as caught:
        usage_record_many(items=items, user=user, source=API)
    assert caught.value.kind == "invalid", caught.value.message
    assert not Usage.objects.exists() and not UsageRevision.objects.exists()
    return caught.value


def test_it_records_a_month_of_usage(customer, finance):
    result = usage_record(customer=customer, year=YEAR, month=MONTH, api_usage=1_500, user=finance)
    assert (result.created, result.updated, result.unchanged) == (1, 0, 0)
    assert Usage.objects.get(customer=customer, year=YEAR, month=MONTH).api_usage == 1_500


def test_recording_the_same_month_again_replaces_the_total(customer, finance):
    usage_record(customer=customer, year=YEAR, month=MONTH, api_usage=1_500, user=finance)
    result = usage_record(customer=customer, year=YEAR, month=MONTH, api_usage=2_000, user=finance)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    assert Usage.objects.get().api_usage == 2_000


def test_a_batch_counts_created_and_updated_rows(customer, finance):
    other = CustomerFactory()
    usage_record(customer=customer, year=YEAR, month=MONTH, api_usage=1, user=finance)
    usage_record(customer=customer, year=YEAR, month=4, api_usage=7, user=finance)
    result = usage_record_many(
        items=[item(customer, api_usage=5), item(other), item(customer, month=4, api_usage=7)],
        user=finance,
        source=API,
    )
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert Usage.objects.count() == 3


def test_sending_the_same_values_again_changes_nothing(customer, finance):
    items = [item(customer, month=m, api_usage=m * 10) for m in (1, 2, 3)]
    first = usage_record_many(items=items, user=finance, source=API)
    stamps = list(Usage.objects.order_by("month").values_list("updated_at", flat=True))
    again = usage_record_many(items=items, user=finance, source=API)
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    assert (again.created, again.updated, again.unchanged, again.changed) == (0, 0, 3, 0)
    # Not even rewritten: the rows keep their time, and no revision is added.
    assert list(Usage.objects.order_by("month").values_list("updated_at", flat=True)) == stamps
    assert UsageRevision.objects.count() == 3


@pytest.mark.parametrize("role", ["sales", "csm", "other_csm"])
def test_only_finance_may_record_usage(role, users, customer):
    with pytest.raises(DomainError) as caught:
        usage_record(customer=customer, year=YEAR, month=MONTH, api_usage=1, user=users[role])
    assert caught.value.kind == "forbidden"
    assert not Usage.objects.exists()


def test_64_bit_usage_is_accepted(customer, finance):
    usage_record_many(items=[item(customer, api_usage=MAX_USAGE)], user=finance, source=API)
    assert Usage.objects.get().api_usage == 2**63 - 1


def test_raw_items_are_json_so_a_digit_string_is_refused(customer, finance):
    # Raw items are the API's JSON: a count must be a JSON integer. (It used to read "7" as 7.)
    error = refused(
        [{"customer_id": str(customer.pk), "year": "2025", "month": "03", "api_usage": "7"}],
        finance,
    )
    assert error.errors == {
        "0": {
            "customer_id": [
                f'Enter a whole number as a JSON integer, not the string "{customer.pk}".'
            ],
            "year": ['Enter a whole number as a JSON integer, not the string "2025".'],
            "month": ['Enter a whole number as a JSON integer, not the string "03".'],
            "api_usage": ['Enter a whole number as a JSON integer, not the string "7".'],
        }
    }


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
    usage_record_many(
        items=[item(customer, year=today.year, month=today.month)], user=finance, source=API
    )
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
    ("customer_id", "shown"),
    [
        (0, "0"),
        (-1, "-1"),
        (2**63, "9223372036854775808"),
        (2**64, "18446744073709551616"),
        (-(2**64), "-18446744073709551616"),
        (10**30, "10000000000000000000000000000…"),
    ],
)
def test_a_customer_id_outside_64_bits_is_refused_before_any_query(
    customer, finance, customer_id, shown
):
    # SQLite cannot bind an integer past 64 bits: the lookup of known customers raised
    # OverflowError (a 500) instead of naming the bad item.
    error = refused([item(customer), item(customer, customer_id=customer_id, month=4)], finance)
    message = f"{shown} is out of range: enter a customer id from 1 to 9223372036854775807."
    assert error.errors == {"1": {"customer_id": [message]}}


# --- the row schema ----------------------------------------------------------------------------

GOOD = {"customer_id": 12, "year": 2025, "month": 3, "api_usage": 1_500}
TEXT_GOOD = {"customer_id": "12", "year": "2025", "month": "3", "api_usage": "1500"}


def _range(shown: str) -> str:
    return f"{shown} is out of range: usage must be between 0 and 9223372036854775807."


@pytest.mark.parametrize(
    ("raw", "source", "row"),
    [
        (GOOD, "json", UsageRow(12, 2025, 3, 1_500)),
        (GOOD | {"api_usage": 0}, "json", UsageRow(12, 2025, 3, 0)),
        (GOOD | {"api_usage": 2**63 - 1}, "json", UsageRow(12, 2025, 3, 2**63 - 1)),
        (TEXT_GOOD, "text", UsageRow(12, 2025, 3, 1_500)),
        (
            {"customer_id": "12", "year": "2025", "month": "03", "api_usage": " 1500 "},
            "text",
            UsageRow(12, 2025, 3, 1_500),
        ),
        (TEXT_GOOD | {"api_usage": str(2**63 - 1)}, "text", UsageRow(12, 2025, 3, 2**63 - 1)),
        (GOOD, "text", UsageRow(12, 2025, 3, 1_500)),  # ints code holds (a form's pk) pass
    ],
)
def test_the_schema_reads_json_integers_and_text_digits(raw, source, row):
    assert usage_row_parse(raw=raw, source=source) == (row, [])


def test_csv_and_form_rows_are_text_by_default():
    assert usage_row_parse(raw=TEXT_GOOD, source=TEXT) == (UsageRow(12, 2025, 3, 1_500), [])


def _json(sent: str) -> str:
    return f"Enter a whole number as a JSON integer, not {sent}."


def _typed(typed: str) -> str:
    return f"“{typed}” is not a whole number: type digits only."


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        (None, "required", "This field is required."),
        ("7", "not_a_number", _json('the string "7"')),  # a JSON string, even of digits
        ("", "not_a_number", _json('the string ""')),
        (1.5, "not_a_number", _json("the decimal number 1.5")),
        (3.0, "not_a_number", _json("the decimal number 3.0")),  # a float, even a whole one
        (1e3, "not_a_number", _json("the decimal number 1000.0")),
        (1e300, "not_a_number", _json("the decimal number 1e+300")),
        (True, "not_a_number", _json("true")),
        ([1], "not_a_number", _json("a list")),
        ({"n": 1}, "not_a_number", _json("an object")),
        (-1, "out_of_range", _range("-1")),
        (2**63, "out_of_range", _range("9223372036854775808")),
        (10**40, "out_of_range", _range("10000000000000000000000000000…")),
    ],
)
def test_a_json_item_takes_json_integers_only(value, code, message):
    row, errors = usage_row_parse(raw=GOOD | {"api_usage": value}, row=7, source="json")
    assert row is None
    assert errors == [UsageRowError(row=7, field="api_usage", code=code, message=message)]


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        (None, "required", "This field is required."),
        ("", "required", "This field is required."),
        ("   ", "required", "This field is required."),
        ("250.000", "not_a_number", _typed("250.000")),  # IntegerField reads 250
        ("3.0", "not_a_number", _typed("3.0")),
        ("1e3", "not_a_number", _typed("1e3")),
        ("1_000", "not_a_number", _typed("1_000")),  # int() reads 1000
        ("1,000", "not_a_number", _typed("1,000")),
        ("+5", "not_a_number", _typed("+5")),
        ("１２", "not_a_number", _typed("１２")),  # fullwidth digits: int() reads 12
        ("²", "not_a_number", _typed("²")),
        ("true", "not_a_number", _typed("true")),
        (3.0, "not_a_number", "Enter a whole number, not the decimal number 3.0."),
        (True, "not_a_number", "Enter a whole number, not true."),
        ([1], "not_a_number", "Enter a whole number, not a list."),
        (-1, "out_of_range", _range("“-1”")),
        ("-1", "out_of_range", _range("“-1”")),
        (" -1 ", "out_of_range", _range("“-1”")),
        ("1" * 31, "out_of_range", _range("“11111111111111111111111111111…”")),
        (str(2**63), "out_of_range", _range("“9223372036854775808”")),
    ],
)
def test_a_text_row_takes_ascii_digits_only(value, code, message):
    row, errors = usage_row_parse(raw=GOOD | {"api_usage": value}, row=7, source="text")
    assert row is None
    assert errors == [UsageRowError(row=7, field="api_usage", code=code, message=message)]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "customer_id",
            0,
            "“0” is out of range: enter a customer id from 1 to 9223372036854775807.",
        ),
        (
            "customer_id",
            2**63,
            "“9223372036854775808” is out of range: enter a customer id from 1 to "
            "9223372036854775807.",
        ),
        ("year", 1999, "“1999” is out of range: enter a year between 2000 and 2999."),
        ("year", 3000, "“3000” is out of range: enter a year between 2000 and 2999."),
        ("month", 0, "“0” is out of range: enter a month from 1 to 12."),
        ("month", 13, "“13” is out of range: enter a month from 1 to 12."),
    ],
)
def test_the_schema_bounds_ids_years_and_months(field, value, message):
    assert usage_row_parse(raw=GOOD | {field: value}, source=TEXT) == (
        None,
        [UsageRowError(0, field, "out_of_range", message)],
    )


def test_the_schema_names_every_bad_field_of_a_row_at_once():
    raw = {"customer_id": "x", "month": 13, "api_usage": -1, "colour": "red", "Size": 1}
    _, errors = usage_row_parse(raw=raw, row=3, source=TEXT)
    assert [(e.row, e.field, e.code) for e in errors] == [
        (3, "Size", "unknown_field"),
        (3, "colour", "unknown_field"),
        (3, "customer_id", "not_a_number"),
        (3, "year", "required"),
        (3, "month", "out_of_range"),
        (3, "api_usage", "out_of_range"),
    ]


@pytest.mark.parametrize(
    ("raw", "sent"),
    [
        (["not", "an", "object"], "a list"),
        ("usage", 'the string "usage"'),
        (12, "the number 12"),
        (None, "null"),
        (True, "true"),
    ],
)
def test_the_schema_refuses_a_row_that_is_not_an_object_and_says_what_it_is(raw, sent):
    assert usage_row_parse(raw=raw, row=2, source=TEXT) == (
        None,
        [UsageRowError(2, "", "not_an_object", f"Each item must be an object, not {sent}.")],
    )


# --- structured errors -------------------------------------------------------------------------


def test_a_refused_batch_carries_its_errors_as_data(customer, finance):
    today = periods.today()
    future_year, future_month = periods.next_month(today.year, today.month)
    future = f"{future_year}-{future_month:02d}"
    acme = customer.pk
    items = [
        item(customer),
        item(customer, month=4, api_usage=-5),
        item(customer, customer_id=acme + 1000),
        item(customer, api_usage=20),
        item(customer, year=future_year, month=future_month),
        "not an object",
        item(customer, month=4),
        item(customer, month=4, api_usage=1),
    ]
    with pytest.raises(UsageRowsError) as caught:
        usage_record_many(items=items, user=finance, source=API)
    assert caught.value.row_errors == [
        UsageRowError(1, "api_usage", "out_of_range", _range("-5")),
        UsageRowError(2, "customer_id", "unknown_customer", f"No customer has id {acme + 1000}."),
        UsageRowError(
            3,
            "month",
            "duplicate",
            f"Item 0 already sets customer {acme}, 2025-03; send it once.",
            first_row=0,
        ),
        UsageRowError(
            4,
            "month",
            "future_month",
            f"{future} is in the future; usage can be recorded once the month starts.",
        ),
        UsageRowError(
            5, "", "not_an_object", 'Each item must be an object, not the string "not an object".'
        ),
        UsageRowError(
            7,
            "month",
            "duplicate",
            f"Item 6 already sets customer {acme}, 2025-04; send it once.",
            first_row=6,
        ),
    ]
    # A DomainError like any other: kind, message and the API's "items" shape.
    assert isinstance(caught.value, DomainError) and caught.value.kind == "invalid"
    assert caught.value.message == "6 of 8 usage items are invalid; nothing was recorded."
    assert caught.value.errors["5"] == {
        "non_field_errors": ['Each item must be an object, not the string "not an object".']
    }
    assert caught.value.errors["3"] == {
        "month": [f"Item 0 already sets customer {acme}, 2025-03; send it once."]
    }
    assert not Usage.objects.exists() and not UsageRevision.objects.exists()


def test_usage_rows_are_checked_like_any_item(customer, finance):
    # A UsageRow is typed but not trusted: the service still checks its ranges.
    error = refused([UsageRow(customer.pk, YEAR, MONTH, -1)], finance)
    assert error.errors == {"0": {"api_usage": [_range("-1")]}}
    result = usage_record_many(
        items=[UsageRow(customer.pk, YEAR, MONTH, 5)], user=finance, source=API
    )
    assert (result.created, Usage.objects.get().api_usage) == (1, 5)


# --- checking without writing ------------------------------------------------------------------


def test_the_check_lists_what_recording_would_refuse_and_writes_nothing(customer, finance):
    items = [item(customer), item(customer, api_usage=2), item(customer, customer_id=987654)]
    assert usage_check_many(items=items, user=finance) == [
        UsageRowError(
            1,
            "month",
            "duplicate",
            f"Item 0 already sets customer {customer.pk}, 2025-03; send it once.",
            first_row=0,
        ),
        UsageRowError(2, "customer_id", "unknown_customer", "No customer has id 987654."),
    ]
    assert not Usage.objects.exists()


def test_the_check_of_good_rows_is_empty_and_writes_nothing(customer, finance):
    assert usage_check_many(items=[item(customer), item(customer, month=4)], user=finance) == []
    assert usage_check_many(items=[], user=finance) == []
    assert not Usage.objects.exists()


@pytest.mark.parametrize("role", ["sales", "csm"])
def test_only_finance_may_check_usage(role, users, customer):
    with pytest.raises(DomainError) as caught:
        usage_check_many(items=[item(customer)], user=users[role])
    assert caught.value.kind == "forbidden"


def test_the_check_refuses_a_batch_over_the_limit(customer, finance):
    with pytest.raises(DomainError) as caught:
        usage_check_many(items=[item(customer)] * (MAX_ITEMS + 1), user=finance)
    assert "items" in caught.value.errors


# --- a batch is all or nothing, and every refusal names the bad value --------------------------

FUTURE = periods.next_month(periods.today().year, periods.today().month)


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        ({"api_usage": -1}, "api_usage", _range("-1")),
        (
            {"api_usage": 1.5},
            "api_usage",
            "Enter a whole number as a JSON integer, not the decimal number 1.5.",
        ),
        (
            {"api_usage": "250.000"},
            "api_usage",
            'Enter a whole number as a JSON integer, not the string "250.000".',
        ),
        ({"month": 13}, "month", "13 is out of range: enter a month from 1 to 12."),
        ({"year": 1999}, "year", "1999 is out of range: enter a year between 2000 and 2999."),
        ({"customer_id": 987654}, "customer_id", "No customer has id 987654."),
        (
            {"year": FUTURE[0], "month": FUTURE[1]},
            "month",
            f"{FUTURE[0]}-{FUTURE[1]:02d} is in the future; usage can be recorded once the "
            "month starts.",
        ),
        ({"month": 4}, "month", "Item 1 already sets customer {acme}, 2025-04; send it once."),
    ],
)
def test_one_bad_row_of_any_kind_refuses_the_batch_naming_its_value(
    customer, finance, bad, field, message
):
    items = [item(customer, month=1), item(customer, month=4), item(customer, month=5) | bad]
    error = refused(items, finance)
    assert error.errors == {"2": {field: [message.format(acme=customer.pk)]}}


def test_a_refused_batch_leaves_the_recorded_months_as_they_were(customer, finance):
    usage_record(customer=customer, year=YEAR, month=1, api_usage=10, user=finance)
    with pytest.raises(UsageRowsError):
        usage_record_many(
            items=[item(customer, month=1, api_usage=99), item(customer, month=13)],
            user=finance,
            source=API,
        )
    assert list(Usage.objects.values_list("month", "api_usage")) == [(1, 10)]
    assert UsageRevision.objects.count() == 1
