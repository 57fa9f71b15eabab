"""The customer field (customers.forms.CustomerField) and its suggestions
(GET /customers/suggest): a customer is typed by number, as a suggestion shows it, or by its
exact name; a shared or unknown name says what to type instead. Suggestions are the customers
whose name holds the text, by name, at most 20, the numbered one first; every signed-in role
gets them, anonymous visitors are sent to sign in."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.forms import CustomerField
from customers.selectors import customer_suggestions
from tests.factories import CustomerFactory
from tests.plans import explain, plan_nodes

pytestmark = pytest.mark.django_db


class OneCustomer(forms.Form):
    customer = CustomerField()


def cleaned(text):
    form = OneCustomer({"customer": text})
    return (form.cleaned_data["customer"], None) if form.is_valid() else (None, form.errors)


@pytest.fixture
def named():
    acme = CustomerFactory(name="Acme Corp")
    globex = CustomerFactory(name="Globex")
    twin_a = CustomerFactory(name="Twin Ltd")
    twin_b = CustomerFactory(name="Twin Ltd")
    digits = CustomerFactory(name="123456789012")
    return {"acme": acme, "globex": globex, "twin_a": twin_a, "twin_b": twin_b, "digits": digits}


# What a person types -> which customer it means (key of `named`), or the error it gets.
TYPED = [
    ("{acme}", "acme", None),
    ("#{acme}", "acme", None),
    ("  # {acme} ", "acme", None),
    ("Acme Corp (#{acme})", "acme", None),
    ("Another name entirely (#{globex})", "globex", None),  # the number decides
    ("Acme Corp", "acme", None),
    ("  Acme Corp ", "acme", None),
    # Exact as a usage file's customer column: case and inner spaces count, with a hint.
    ("acme corp", None, "No customer is named “acme corp”; did you mean “Acme Corp”?"),
    ("Acme  Corp", None, "No customer is named “Acme  Corp”: type part of the name"),
    ("globex", None, "did you mean “Globex”?"),
    ("Twin Ltd (#{twin_b})", "twin_b", None),
    ("Twin Ltd", None, "More than one customer is named “Twin Ltd”"),
    ("Acme", None, "No customer is named “Acme”: type part of the name and choose"),
    ("999999", None, "There is no customer #999999."),
    # Digits are a number, not a name; the suggestion's form reaches a customer named so.
    ("123456789012", None, "There is no customer #123456789012."),
    ("123456789012 (#{digits})", "digits", None),
    ("", None, "This field is required."),
    ("x" * 251, None, "Type at most 250 characters."),
]


@pytest.mark.parametrize(("typed", "means", "error"), TYPED)
def test_a_typed_customer_means_one_customer_or_says_why_not(named, typed, means, error):
    text = typed.format(**{k: v.pk for k, v in named.items()})
    customer, errors = cleaned(text)
    if means:
        assert customer == named[means] and errors is None
    else:
        assert customer is None and error in errors["customer"][0]


def test_a_typed_customer_costs_one_query(named):
    for text in (str(named["acme"].pk), "Acme Corp", "Twin Ltd"):
        with CaptureQueriesContext(connection) as queries:
            cleaned(text)
        assert len(queries) == 1, text


def test_the_field_shows_a_customer_as_its_suggestion_does(named):
    acme = named["acme"]
    html = str(OneCustomer(initial={"customer": acme})["customer"])
    assert f'value="Acme Corp (#{acme.pk})"' in html
    assert 'list="id_customer-options"' in html and '<datalist id="id_customer-options">' in html
    assert 'hx-get="/customers/suggest?from=customer"' in html
    # The first customers by name are there before anything is typed.
    options = re.findall(r'<option value="([^"]*)">', html)
    assert options[:2] == [f"123456789012 (#{named['digits'].pk})", f"Acme Corp (#{acme.pk})"]


URL = "/customers/suggest"


def options(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'<option value="([^"]*)"></option>', response.content.decode())


def test_suggestions_are_the_names_holding_the_text_by_name(page_as, finance, named):
    client = page_as(finance)
    twins = [f"Twin Ltd (#{named['twin_a'].pk})", f"Twin Ltd (#{named['twin_b'].pk})"]
    assert options(client.get(URL, {"q": "TWIN"})) == twins
    assert options(client.get(URL, {"q": "o"})) == [
        f"Acme Corp (#{named['acme'].pk})",
        f"Globex (#{named['globex'].pk})",
    ]
    assert options(client.get(URL, {"q": "nobody"})) == []
    # A form field's own parameter, as htmx sends it.
    assert options(client.get(URL, {"from": "entry-customer", "entry-customer": "glob"})) == [
        f"Globex (#{named['globex'].pk})"
    ]


def test_a_number_suggests_its_customer_first(page_as, finance, named):
    digits = named["digits"]
    found = options(page_as(finance).get(URL, {"q": f"#{digits.pk}"}))
    assert found == [f"123456789012 (#{digits.pk})"]
    holder = CustomerFactory(name=f"Holds {digits.pk} in its name")
    found = options(page_as(finance).get(URL, {"q": str(digits.pk)}))
    assert found == [
        f"123456789012 (#{digits.pk})",
        f"Holds {digits.pk} in its name (#{holder.pk})",
    ]


def test_suggestions_stop_at_twenty_and_escape_names(page_as, finance):
    CustomerFactory.create_batch(25, name="Shop")
    quoted = CustomerFactory(name='Shop "<b>" & Co')
    client = page_as(finance)
    found = options(client.get(URL, {"q": "shop"}))
    assert len(found) == 20
    html = client.get(URL, {"q": "<b>"}).content.decode()
    assert html == f'<option value="Shop &quot;&lt;b&gt;&quot; &amp; Co (#{quoted.pk})"></option>'


@pytest.mark.parametrize("role", ["finance", "sales", "csm"])
def test_every_role_gets_suggestions_and_visitors_sign_in(page_as, users, role, named, client):
    assert options(page_as(users[role]).get(URL, {"q": "acme"})) == [
        f"Acme Corp (#{named['acme'].pk})"
    ]
    response = client.get(URL, {"q": "acme"})
    assert response.status_code == 302 and response["Location"].startswith("/welcome?next=")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan is PostgreSQL's")
@pytest.mark.parametrize("text", ["zzz", "shop 1"])
def test_suggestions_find_names_through_the_trigram_index(text):
    # A large table's plan (sequential scans priced out): the matches come from the names'
    # trigram index (customers migration 0007), not from walking every name in order.
    CustomerFactory.create_batch(50, name="Shop")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
        cursor.execute("SET LOCAL enable_seqscan = off")
        with CaptureQueriesContext(connection) as captured:
            customer_suggestions(text)
        [query] = captured.captured_queries
        plan = explain(cursor, query["sql"])
    scans = {node.get("Index Name") for node in plan_nodes(plan) if "Index Name" in node}
    assert scans == {"customer_name_trgm_idx"}
