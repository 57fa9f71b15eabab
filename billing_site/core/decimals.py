"""Money typed by a person or sent as a JSON string (a unit cost, a payment): the one rule for
reading it, as core.numbers is for whole numbers.

Digits with an optional dot and more digits ("0.0025", "1250.50", ".5"), a leading minus allowed
so that the caller's range says why a negative is refused. Nothing else: Python's Decimal reads
"1e3", "+5", "１２" (fullwidth) and " 5 ", and a German "0,0025" or an English "1,250.50" would
be misread by any lenient rule, so each is refused with a message quoting what was typed and
saying which separator to use (DOT_HELP). Surrounding spaces are the caller's to strip (a form
field strips them, as a form's CharField does).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms

from billing_site.core.numbers import NOT_A_NUMBER, quote_typed

# Said next to every money field of a page or the admin, and in every refusal.
DOT_HELP = "Use a dot for decimals: 0.0025."

_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)", re.ASCII)
# Past this many characters no amount of ours fits (a bill holds 27 + 2 digits); Decimal is
# never asked to read a megabyte of digits.
_MAX_CHARS = 60


class DecimalTextError(ValueError):
    """`message` is the sentence for the reader, quoting what was typed; `code` NOT_A_NUMBER."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
        self.code = NOT_A_NUMBER


def parse_decimal_text(text: str, *, example: str = "0.0025") -> Decimal:
    """`text` as an exact Decimal if it is ASCII digits with at most one dot for decimals (and a
    leading minus); otherwise DecimalTextError quoting it and naming `example` as the form to
    type. Ranges and places are the caller's (its message says which)."""
    if text == "":
        raise DecimalTextError(f"Enter a number, e.g. {example}: the value is empty.")
    if len(text) > _MAX_CHARS:
        raise DecimalTextError(f"{quote_typed(text)} is too long to be an amount.")
    if not _DECIMAL.fullmatch(text):
        raise DecimalTextError(
            f"{quote_typed(text)} is not a number: type digits with a dot for decimals, "
            f"e.g. {example} (no commas, spaces, signs or exponents)."
        )
    return Decimal(text)


class DecimalTextFormField(forms.DecimalField):
    """A form field (the admin's money columns) that reads parse_decimal_text's grammar, where
    Django's DecimalField reads "1e3" and "１２" and answers "Enter a number." to "0,0025"
    without saying what was wrong. Surrounding spaces are stripped. Its help text says which
    separator it takes unless the caller words its own."""

    def __init__(self, *, example: str = "0.0025", **kwargs: Any):
        self.example = example
        if not kwargs.get("help_text"):
            kwargs["help_text"] = DOT_HELP
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:
        if isinstance(value, Decimal):
            return value
        if value is None:
            return None
        text = str(value).strip()
        if text == "":
            return None
        try:
            return parse_decimal_text(text, example=self.example)
        except DecimalTextError as error:
            raise forms.ValidationError(error.message, code=error.code) from None
