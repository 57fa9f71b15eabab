"""billing_site.core.numbers: the one whole-number rule, and the two fields built on it (the API's
WholeNumberField in core.api, the forms' and filters' WholeNumberFormField)."""

from __future__ import annotations

import pytest
from django import forms
from rest_framework import serializers

from billing_site.core.api import WholeNumberField, id_field
from billing_site.core.numbers import (
    WholeNumberError,
    WholeNumberFormField,
    parse_json,
    parse_text,
    quote_typed,
)

MAX = 2**63 - 1


def _json(sent: str) -> str:
    return f"Enter a whole number as a JSON integer, not {sent}."


def _typed(typed: str) -> str:
    return f"“{typed}” is not a whole number: type digits only."


# --- JSON ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "bounds", "expected"),
    [
        (0, {}, 0),
        (12, {"min_value": 1, "max_value": 12}, 12),
        (-5, {}, -5),
        (MAX, {"min_value": 1, "max_value": MAX}, MAX),
        (2**70, {}, 2**70),
    ],
)
def test_a_json_integer_is_read(value, bounds, expected):
    assert parse_json(value, **bounds) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026", _json('the string "2026"')),
        ("12.0", _json('the string "12.0"')),
        ("", _json('the string ""')),
        ("x" * 40, _json('the string "' + "x" * 29 + '…"')),
        ('say "hi"', _json('the string "say \\"hi\\""')),
        (2026.0, _json("the decimal number 2026.0")),
        (1e3, _json("the decimal number 1000.0")),
        (1.5, _json("the decimal number 1.5")),
        (-0.0, _json("the decimal number -0.0")),
        (float("inf"), _json("a decimal number")),
        (True, _json("true")),
        (False, _json("false")),
        (None, _json("null")),
        ([1], _json("a list")),
        ({"n": 1}, _json("an object")),
    ],
)
def test_anything_but_a_json_integer_is_refused_saying_what_was_sent(value, message):
    with pytest.raises(WholeNumberError) as caught:
        parse_json(value, min_value=0, max_value=MAX)
    assert (caught.value.code, caught.value.message) == ("not_a_number", message)


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "bounds", "expected"),
    [
        ("0", {}, 0),
        ("12", {"min_value": 1, "max_value": 12}, 12),
        ("03", {"min_value": 1, "max_value": 12}, 3),
        ("0" * 50 + "7", {"min_value": 1, "max_value": 12}, 7),
        (str(MAX), {"min_value": 1, "max_value": MAX}, MAX),
        ("-5", {}, -5),  # a minus where the range admits negatives
        ("-5", {"min_value": -10}, -5),
        (7, {"min_value": 1}, 7),  # an int code already holds (a pk)
    ],
)
def test_ascii_digits_are_read(text, bounds, expected):
    assert parse_text(text, **bounds) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.0", _typed("1.0")),
        ("2026.000", _typed("2026.000")),
        ("1e3", _typed("1e3")),
        ("+1", _typed("+1")),
        ("true", _typed("true")),
        (" 1", _typed(" 1")),  # nothing is stripped: a caller that means it strips first
        ("1 ", _typed("1 ")),
        ("１", _typed("１")),  # fullwidth: int() reads 1
        ("٣", _typed("٣")),  # Arabic-Indic three: int() reads 3
        ("²", _typed("²")),
        ("1_000", _typed("1_000")),  # int() reads 1000
        ("1,000", _typed("1,000")),
        ("0x10", _typed("0x10")),
        ("--1", _typed("--1")),
        ("-", _typed("-")),
        ("<b>" + "9" * 40, _typed("<b>" + "9" * 26 + "…")),
        ("", "Enter a whole number: the value is empty."),
        (1.0, "Enter a whole number, not the decimal number 1.0."),
        (True, "Enter a whole number, not true."),
        (None, "Enter a whole number, not null."),
    ],
)
def test_anything_but_ascii_digits_is_refused_quoting_the_text(text, message):
    with pytest.raises(WholeNumberError) as caught:
        parse_text(text, min_value=1, max_value=MAX)
    assert (caught.value.code, caught.value.message) == ("not_a_number", message)


@pytest.mark.parametrize(
    ("value", "bounds", "message"),
    [
        ("0", {"min_value": 1, "max_value": 12}, "Enter a whole number from 1 to 12."),
        ("13", {"min_value": 1, "max_value": 12}, "Enter a whole number from 1 to 12."),
        ("-1", {"min_value": 1, "max_value": 12}, "Enter a whole number from 1 to 12."),
        ("-0", {"min_value": 0}, "Enter a whole number of 0 or more."),  # no minus at all
        ("-11", {"min_value": -10}, "Enter a whole number of -10 or more."),
        ("501", {"max_value": 500}, "Enter a whole number of 500 or less."),
        (
            str(MAX + 1),
            {"min_value": 1, "max_value": MAX},
            f"Enter a whole number from 1 to {MAX}.",
        ),
        ("9" * 41, {"min_value": 1, "max_value": MAX}, f"Enter a whole number from 1 to {MAX}."),
        ("9" * 41, {}, "Enter a whole number of at most 40 digits."),
        ("9" * 5000, {"min_value": 1}, "Enter a whole number of at most 40 digits."),
        (
            "1999",
            {"min_value": 2000, "max_value": 2999, "range_message": "A year, please."},
            "A year, please.",
        ),
        (13, {"min_value": 1, "max_value": 12}, "Enter a whole number from 1 to 12."),
    ],
)
def test_a_number_out_of_its_range_is_refused_with_the_range(value, bounds, message):
    with pytest.raises(WholeNumberError) as caught:
        parse_text(value, **bounds)
    assert (caught.value.code, caught.value.message) == ("out_of_range", message)


def test_json_takes_the_same_bounds_and_range_message():
    with pytest.raises(WholeNumberError) as caught:
        parse_json(13, min_value=1, max_value=12, range_message="Enter a month from 1 to 12.")
    assert (caught.value.code, caught.value.message) == (
        "out_of_range",
        "Enter a month from 1 to 12.",
    )


def test_what_was_typed_is_quoted_and_cut_to_30_characters():
    assert quote_typed("250.000") == "“250.000”"
    assert quote_typed("x" * 30) == "“" + "x" * 30 + "”"
    assert quote_typed("x" * 31) == "“" + "x" * 29 + "…”"


# --- the form field (page forms and query filters) --------------------------------------------


def _form_error(field: forms.Field, value) -> str:
    with pytest.raises(forms.ValidationError) as caught:
        field.clean(value)
    return " ".join(caught.value.messages)


def test_the_form_field_reads_digits_and_strips_what_a_person_typed_around_them():
    field = WholeNumberFormField(min_value=2000, max_value=2999)
    assert field.clean("2026") == 2026
    assert field.clean(" 2026 ") == 2026
    assert field.clean(2026) == 2026


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2026.0", _typed("2026.0")),  # forms.IntegerField reads 2026
        ("2026.000", _typed("2026.000")),
        ("2e3", _typed("2e3")),
        ("２０２６", _typed("２０２６")),
        ("1999", "Enter a year between 2000 and 2999."),
        ("", "This field is required."),
    ],
)
def test_the_form_field_refuses_anything_but_digits_with_what_was_typed(typed, message):
    field = WholeNumberFormField(
        min_value=2000, max_value=2999, range_message="Enter a year between 2000 and 2999."
    )
    assert _form_error(field, typed) == message


def test_forms_integer_field_is_the_leniency_this_replaces():
    # Why the field exists: Django reads "2026.0" as 2026. If Django ever stops, this can go.
    assert forms.IntegerField().clean("2026.0") == 2026


def test_a_query_field_keeps_spaces_and_refuses_a_blank_but_not_an_absent_value():
    field = WholeNumberFormField(required=False, strip=False, blank_is_error=True, min_value=1)
    assert field.clean(None) is None
    assert _form_error(field, "") == "Enter a whole number: the value is empty."
    assert _form_error(field, " 5") == _typed(" 5")
    assert field.clean("5") == 5


def test_an_optional_form_field_left_blank_is_no_value():
    assert WholeNumberFormField(required=False).clean("") is None


# --- the API's field -------------------------------------------------------------------------


class Body(serializers.Serializer):
    month = WholeNumberField(min_value=1, max_value=12, range_message="Enter a month from 1 to 12.")
    customer_id = id_field(required=False)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"month": "3"}, {"month": [_json('the string "3"')]}),
        ({"month": "3.0"}, {"month": [_json('the string "3.0"')]}),
        ({"month": 3.0}, {"month": [_json("the decimal number 3.0")]}),
        ({"month": True}, {"month": [_json("true")]}),
        ({"month": None}, {"month": ["This field may not be null."]}),
        ({}, {"month": ["This field is required."]}),
        ({"month": 13}, {"month": ["Enter a month from 1 to 12."]}),
        ({"month": 3, "customer_id": 0}, {"customer_id": [f"Enter an id from 1 to {MAX}."]}),
        ({"month": 3, "customer_id": 2**63}, {"customer_id": [f"Enter an id from 1 to {MAX}."]}),
        ({"month": 3, "customer_id": "7"}, {"customer_id": [_json('the string "7"')]}),
    ],
)
def test_the_api_field_takes_json_integers_only(body, errors):
    serializer = Body(data=body)
    assert not serializer.is_valid()
    assert serializer.errors == errors


def test_the_api_field_reads_a_json_integer():
    serializer = Body(data={"month": 12, "customer_id": MAX})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data == {"month": 12, "customer_id": MAX}


def test_drf_integer_field_is_the_leniency_this_replaces():
    assert serializers.IntegerField().run_validation("12.0") == 12
