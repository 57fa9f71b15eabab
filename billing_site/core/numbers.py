"""Whole numbers (counts, ids, years, months, pages): the one rule for reading them.

SPEC "Data": counts are integers; a JSON float, bool or string for an integer field is a 400,
never rounded. Two sources, two grammars:

- `parse_json`: a value decoded from a JSON body. Only a JSON integer is one: the string "12",
  the float 12.0 (or 1e3) and true are refused, whatever they would round to.
- `parse_text`: text by nature (a query parameter, a form field, a CSV cell). ASCII digits only,
  so "12.0", "1e3", "+5", " 5", "1_000" and fullwidth "１２" are refused where int() or Django's
  IntegerField would read them. A leading minus is read only where the range admits negatives;
  elsewhere "-5" is refused by the range's message, since it is a whole number, just not one
  allowed there.

Both check `min_value`/`max_value` and raise WholeNumberError, whose message says what was sent
(quoted, shortened) and what to send. Everything that reads a whole number calls these: the DRF
field of the API's bodies (core.api.WholeNumberField), the form field below (page forms, and the
query filters of core.filters), the pagination and the usage row schema.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django import forms

MAX_INT64 = 2**63 - 1

NOT_A_NUMBER = "not_a_number"
OUT_OF_RANGE = "out_of_range"

ID_RANGE = f"Enter an id from 1 to {MAX_INT64}."

_DIGITS = re.compile(r"(-?)([0-9]+)", re.ASCII)
# Past this many significant digits a number is out of any range we have (2^64 has 20), and
# int() is never asked to read a megabyte of digits.
_MAX_DIGITS = 40
_SHOWN = 30


class WholeNumberError(ValueError):
    """`code` is NOT_A_NUMBER or OUT_OF_RANGE; `message` is the sentence for the reader."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def parse_json(
    value: object,
    *,
    min_value: int | None = None,
    max_value: int | None = None,
    range_message: str | None = None,
) -> int:
    """A JSON integer (a Python int that is not a bool) within the bounds; anything else raises
    WholeNumberError naming what was sent."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise WholeNumberError(
            f"Enter a whole number as a JSON integer, not {_json_kind(value)}.", code=NOT_A_NUMBER
        )
    return _in_range(value, min_value, max_value, range_message)


def parse_text(
    value: object,
    *,
    min_value: int | None = None,
    max_value: int | None = None,
    range_message: str | None = None,
) -> int:
    """Text of ASCII digits (with a leading minus only where min_value admits negatives) within
    the bounds. Nothing is stripped: a caller for whom surrounding spaces are noise (a form, a
    spreadsheet cell) strips them first. An int (not a bool) that code already holds, such as
    a model's pk, is taken as it is. Anything else raises WholeNumberError quoting the text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _in_range(value, min_value, max_value, range_message)
    if not isinstance(value, str):
        raise WholeNumberError(f"Enter a whole number, not {_json_kind(value)}.", code=NOT_A_NUMBER)
    if value == "":
        raise WholeNumberError("Enter a whole number: the value is empty.", code=NOT_A_NUMBER)
    match = _DIGITS.fullmatch(value)
    if not match:
        raise WholeNumberError(
            f"{quote_typed(value)} is not a whole number: type digits only.", code=NOT_A_NUMBER
        )
    negative, digits = match.groups()
    significant = digits.lstrip("0")
    if (negative and min_value is not None and min_value >= 0) or (
        len(significant) > _MAX_DIGITS and max_value is not None
    ):
        raise _out_of_range(min_value, max_value, range_message)
    if len(significant) > _MAX_DIGITS:
        message = range_message or f"Enter a whole number of at most {_MAX_DIGITS} digits."
        raise WholeNumberError(message, code=OUT_OF_RANGE)
    number = int(significant or "0")
    return _in_range(-number if negative else number, min_value, max_value, range_message)


def quote_typed(text: str) -> str:
    """Text as a person typed it, in quotes, cut to 30 characters: “250.000”. (Escaping is the
    output's: a template escapes it for HTML, the JSON renderer for JSON.)"""
    if len(text) > _SHOWN:
        text = text[: _SHOWN - 1] + "…"
    return f"“{text}”"


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= _SHOWN else value[: _SHOWN - 1] + "…"
        return f"the string {json.dumps(shown, ensure_ascii=False)}"
    if isinstance(value, float):
        return f"the decimal number {value!r}" if math.isfinite(value) else "a decimal number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _in_range(
    number: int, min_value: int | None, max_value: int | None, range_message: str | None
) -> int:
    if (min_value is not None and number < min_value) or (
        max_value is not None and number > max_value
    ):
        raise _out_of_range(min_value, max_value, range_message)
    return number


def _out_of_range(
    min_value: int | None, max_value: int | None, message: str | None
) -> WholeNumberError:
    if not message:
        if min_value is not None and max_value is not None:
            message = f"Enter a whole number from {min_value} to {max_value}."
        elif min_value is not None:
            message = f"Enter a whole number of {min_value} or more."
        else:
            message = f"Enter a whole number of {max_value} or less."
    return WholeNumberError(message, code=OUT_OF_RANGE)


class WholeNumberFormField(forms.IntegerField):
    """A form field (a page form, or a query filter) that reads parse_text's digits, where
    Django's IntegerField reads "2026.0" and "2026.000" as 2026. `range_message` words the
    bounds (e.g. periods.YEAR_RANGE). Surrounding spaces are stripped, as a form's CharField
    does, unless `strip=False` (a query string, where " 5" is refused).

    Blank is no value (None; "This field is required." if required) unless `blank_is_error`:
    then a parameter that is present but empty (`?year=`) is refused, and only an absent one
    means no value."""

    def __init__(
        self,
        *,
        range_message: str | None = None,
        strip: bool = True,
        blank_is_error: bool = False,
        **kwargs: Any,
    ):
        self.range_message = range_message
        self.strip = strip
        self.blank_is_error = blank_is_error
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if isinstance(value, str) and self.strip:
            value = value.strip()
        if value is None or (value == "" and not self.blank_is_error):
            return None
        try:
            return parse_text(
                value,
                min_value=self.min_value,
                max_value=self.max_value,
                range_message=self.range_message,
            )
        except WholeNumberError as error:
            raise forms.ValidationError(error.message, code=error.code) from None
