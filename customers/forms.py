"""Customer form parts: the /customers search box and the customer field other forms use
(typed by name or number, with suggestions)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from customers.models import Customer
from customers.selectors import customer_by_name, customer_get, customer_suggestions


class CustomerSearchForm(forms.Form):
    """How the /customers search box looks: customers.filters.CustomerPageFilterSet builds its
    field on this form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": "Customer name…", "autocomplete": "off"}
        )


# A customer as a suggestion shows it and as a field's value reads it back: "Acme Corp (#42)".
_NUMBERED = re.compile(r"^(?:.*\(#(\d+)\)|#?\s?(\d+))$", re.S)
_LARGEST_ID = 2**63 - 1  # a bigint key


def customer_label(customer: Customer) -> str:
    """How a customer field shows a customer: its name and number, "Acme Corp (#42)"."""
    return f"{customer.name} (#{customer.pk})"


def customer_options(customers: Iterable[Customer]) -> SafeString:
    """The <option>s of a customer field's <datalist>, one per customer (customer_label)."""
    return format_html_join(
        "", '<option value="{}"></option>', ((customer_label(c),) for c in customers)
    )


class CustomerInput(forms.TextInput):
    """A text box that suggests customers as you type: its <datalist> starts with the first
    customers by name and htmx refills it from /customers/suggest (customers.views) with the
    customers whose name holds what was typed. A desk with 100,000 customers cannot send them
    all in a <select> (1.8 s a page); without scripts the box still takes a name or a number."""

    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})

    def render(self, name, value, attrs=None, renderer=None):
        options_id = f"{(attrs or {}).get('id') or name}-options"
        url = f"{reverse('customers:suggest')}?{urlencode({'from': name})}"
        attrs = {
            **(attrs or {}),
            "list": options_id,
            "hx-get": url,
            "hx-trigger": "input changed delay:250ms",
            "hx-target": f"#{options_id}",
            "hx-swap": "innerHTML",
            "hx-sync": "this:replace",
        }
        box = super().render(name, value, attrs, renderer)
        first = customer_options(customer_suggestions(""))
        return format_html('{}<datalist id="{}">{}</datalist>', box, options_id, first)


class CustomerField(forms.Field):
    """A customer typed by number ("42", "#42"), as a suggestion shows it ("Acme Corp (#42)")
    or by its exact name (customers.selectors.customer_by_name: the rule of a usage file's
    `customer` column); cleans to the Customer. One query. A name two customers share, an
    unknown name (with the name it may have meant) or number: a message saying what to type
    instead."""

    widget = CustomerInput
    default_error_messages = {
        "no_number": "There is no customer #%(number)s.",
        "no_name": "No customer is named “%(name)s”: type part of the name and choose from the "
        "list, or type the customer's number.",
        "other_case": "No customer is named “%(name)s”; did you mean “%(hint)s”?",
        "shared_name": "More than one customer is named “%(name)s”: choose one from the list "
        "(it shows their numbers), or type the number.",
        "too_long": "Type at most %(limit)s characters.",
    }
    MAX_LENGTH = 250

    def prepare_value(self, value):
        return customer_label(value) if isinstance(value, Customer) else value

    def to_python(self, value) -> Customer | None:
        if isinstance(value, Customer):
            return value
        text = str(value or "").strip()
        if not text:
            return None
        if len(text) > self.MAX_LENGTH:
            raise ValidationError(
                self.error_messages["too_long"], "too_long", {"limit": self.MAX_LENGTH}
            )
        if numbered := _NUMBERED.match(text):
            number = int(numbered.group(1) or numbered.group(2))
            if number <= _LARGEST_ID and (customer := customer_get(number)):
                return customer
            raise ValidationError(self.error_messages["no_number"], "no_number", {"number": number})
        named, hint = customer_by_name(text)
        if len(named) == 1:
            return named[0]
        code = "shared_name" if named else "other_case" if hint else "no_name"
        raise ValidationError(self.error_messages[code], code, {"name": text, "hint": hint})
