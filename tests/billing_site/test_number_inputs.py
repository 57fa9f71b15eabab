"""Numbers are read exactly, or refused (issue 15): one table of what people type, tried on every
way a count or an amount comes in (the Record usage page, the admin, the CSV import, the JSON
API, the reprice and payment forms). A count is digits only; an amount is digits with a dot for
decimals. Anything else is refused with a message quoting what was typed, and nothing is saved.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from bills.forms import GenerateForm
from bills.models import Payment, Status
from customers.models import Customer
from tests.factories import MONTH, YEAR, htmx
from usage.csv_import import CsvRowsError, parse_usage_csv, usage_preview_csv
from usage.models import Usage

pytestmark = pytest.mark.django_db

# What a person types into a count, and what is recorded: a number, or a refusal whose message
# holds this text.
COUNTS = [
    ("250000", 250000),
    (" 12 ", 12),  # surrounding spaces are noise in a form field or a spreadsheet cell
    ("250.000", "“250.000” is not a whole number"),
    ("250,000", "“250,000” is not a whole number"),
    ("12 000", "“12 000” is not a whole number"),
    ("1e3", "“1e3” is not a whole number"),
    ("12.5", "“12.5” is not a whole number"),
    ("+5", "“+5” is not a whole number"),
    ("１２", "“１２” is not a whole number"),
    ("0x10", "“0x10” is not a whole number"),
]
# A negative count is a whole number, refused by the field's range.
NEGATIVE = "-5"
# What a person types into a price per call (6 places), and the price recorded.
UNIT_COSTS = [
    ("0.003", Decimal("0.003")),
    (" 0.003 ", Decimal("0.003")),
    (".003", Decimal("0.003")),
    ("0,0025", "“0,0025” is not a number: type digits with a dot for decimals"),
    ("1,250.5", "“1,250.5” is not a number"),
    ("12 000", "“12 000” is not a number"),
    ("1e-3", "“1e-3” is not a number"),
    ("+0.003", "“+0.003” is not a number"),
    ("１", "“１” is not a number"),
    ("0x10", "“0x10” is not a number"),
]
# What a person types into a payment (cents); the bill's balance is 1,250.00.
AMOUNTS = [
    ("125.50", Decimal("125.50")),
    (" 125.50 ", Decimal("125.50")),
    ("125", Decimal("125.00")),
    ("125,50", "“125,50” is not a number: type digits with a dot for decimals, e.g. 125.50"),
    ("1,000.00", "“1,000.00” is not a number"),
    ("1 000", "“1 000” is not a number"),
    ("1e2", "“1e2” is not a number"),
    ("+125", "“+125” is not a number"),
    ("１２５", "“１２５” is not a number"),
    ("-125", "Enter an amount above 0.00."),
]


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def messages_of(body) -> str:
    """Every message of an API error body ({"field": ["message"]}, nested, or "detail")."""
    if isinstance(body, dict):
        return " ".join(messages_of(value) for value in body.values())
    if isinstance(body, list):
        return " ".join(messages_of(value) for value in body)
    return str(body)


def check(expected, saved, message: str) -> None:
    if isinstance(expected, str):
        assert saved is None, f"saved {saved!r}"
        assert expected in message, message[:3000]
    else:
        assert saved == expected, message[:3000]


# --- counts --------------------------------------------------------------------------------------


def _usage() -> int | None:
    return Usage.objects.values_list("api_usage", flat=True).first()


@pytest.mark.parametrize(("typed", "expected"), COUNTS)
def test_the_record_usage_form(typed, expected, page_as, finance, customer):
    data = {
        "form": "entry",
        "entry-customer": customer.pk,
        "entry-year": YEAR,
        "entry-month": MONTH,
        "entry-api_usage": typed,
    }
    response = page_as(finance).post("/usage/record", data)
    check(expected, _usage(), text_of(response))
    if isinstance(expected, str):  # what was typed stays in the box, to be corrected
        assert f'name="entry-api_usage" value="{typed}"' in response.content.decode()


@pytest.mark.parametrize(("typed", "expected"), COUNTS)
def test_the_usage_admin(typed, expected, staff_client, customer):
    data = {"customer": customer.pk, "year": YEAR, "month": MONTH, "api_usage": typed}
    data |= {"revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0"}
    response = staff_client.post(reverse("admin:usage_usage_add"), data)
    check(expected, _usage(), text_of(response))


def _customer_admin_data(customer, **changes) -> dict:
    return {
        "name": customer.name,
        "billing_address": customer.billing_address,
        "billing_email": customer.billing_email,
        "csm": customer.csm_id or "",
        "monthly_api_limit": customer.monthly_api_limit,
        "overage_unit_cost": customer.overage_unit_cost,
        "payment_terms_days": customer.payment_terms_days,
        "start_date": customer.start_date.isoformat(),
        "end_date": "",
        "terms_from": "",
        "terms_versions-TOTAL_FORMS": "0",
        "terms_versions-INITIAL_FORMS": "0",
        "usage_records-TOTAL_FORMS": "0",
        "usage_records-INITIAL_FORMS": "0",
        **changes,
    }


def _post_customer(client, customer, **changes):
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    return client.post(url, _customer_admin_data(customer, **changes))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [*COUNTS, (NEGATIVE, "Enter a limit from 0 to 9223372036854775807 API calls.")],
)
def test_the_customer_admin_limit(typed, expected, staff_client, customer):
    response = _post_customer(staff_client, customer, monthly_api_limit=typed)
    limit = Customer.objects.get().monthly_api_limit
    check(expected, None if limit == 1_000_000 else limit, text_of(response))


@pytest.mark.parametrize(("typed", "expected"), COUNTS)
def test_the_customer_admin_usage_inline(typed, expected, staff_client, customer):
    row = {"year": YEAR, "month": MONTH, "api_usage": typed, "id": "", "customer": customer.pk}
    inline = {f"usage_records-0-{key}": value for key, value in row.items()}
    response = _post_customer(
        staff_client, customer, **{"usage_records-TOTAL_FORMS": "1"}, **inline
    )
    check(expected, _usage(), text_of(response))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [*COUNTS, ("", "This field is required."), (NEGATIVE, "“-5” is out of range")],
)
def test_the_csv_import(typed, expected, finance, customer):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([["customer_id", "year", "month", "api_usage"], [customer.pk, YEAR, MONTH]])
    content = out.getvalue().rstrip("\n") + "," + _csv_cell(typed) + "\n"
    try:
        preview = usage_preview_csv(
            parsed=parse_usage_csv(content.encode()), file_name="u.csv", user=finance
        )
    except CsvRowsError as error:
        saved = None
        message = " ".join(f"{e.field}: {e.message}" for e in error.line_errors)
        assert message.startswith("api_usage: "), message
    else:
        saved, message = preview.changes[0].new, ""
    check(expected, saved, message)


def _csv_cell(typed: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([typed])
    return out.getvalue()


# The API's body is JSON: a count is a JSON integer, and anything else is refused naming it.
API_COUNTS = [
    ("250000", 250000),
    ("250.000", "not the decimal number 250.0"),
    ("1e3", "not the decimal number 1000.0"),
    ('"250000"', 'not the string "250000"'),
    ('"250.000"', 'not the string "250.000"'),
    ('"250,000"', 'not the string "250,000"'),
    ('"１２"', 'not the string "１２"'),
    ("true", "not true"),
    ("-5", "-5 is out of range: usage must be between 0 and 9223372036854775807."),
]


@pytest.mark.parametrize(("sent", "expected"), API_COUNTS)
def test_the_usage_api(sent, expected, api_as, finance, customer):
    body = (
        f'{{"customer_id": {customer.pk}, "year": {YEAR}, "month": {MONTH}, "api_usage": {sent}}}'
    )
    response = api_as(finance).post("/api/usage", body, content_type="application/json")
    check(expected, _usage(), messages_of(response.json()))
    assert response.status_code == (200 if isinstance(expected, int) else 400)


YEARS = [
    ("2025", 2025),
    (" 2025 ", 2025),
    ("2025.000", "“2025.000” is not a whole number"),
    ("2,025", "“2,025” is not a whole number"),
    ("2e3", "“2e3” is not a whole number"),
    ("+2025", "“+2025” is not a whole number"),
    ("２０２５", "“２０２５” is not a whole number"),
]


@pytest.mark.parametrize(("typed", "expected"), YEARS)
def test_the_generate_form_year(typed, expected):
    form = GenerateForm(data={"year": typed, "month": "3"})
    valid = form.is_valid()
    check(expected, form.cleaned_data["year"] if valid else None, str(form.errors))


# --- amounts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "expected"), UNIT_COSTS)
def test_the_reprice_form(typed, expected, page_as, finance, bill):
    data = {"intent": "reprice", "comment": "New price", "overage_unit_cost": typed}
    response = page_as(finance).post(f"/bills/{bill.pk}/update", data, **htmx("bill"))
    bill.refresh_from_db()
    cost = bill.overage_unit_cost
    check(expected, None if cost == Decimal("0.0025") else cost, text_of(response))


@pytest.mark.parametrize(("typed", "expected"), UNIT_COSTS)
def test_the_reprice_api(typed, expected, api_as, finance, bill):
    body = {"comment": "New price", "overage_unit_cost": typed}
    response = api_as(finance).patch(f"/api/bills/{bill.pk}", body, format="json")
    bill.refresh_from_db()
    cost = bill.overage_unit_cost
    message = messages_of(response.json())
    check(expected, None if cost == Decimal("0.0025") else cost, message)


@pytest.mark.parametrize(("typed", "expected"), UNIT_COSTS)
def test_the_customer_admin_unit_cost(typed, expected, staff_client, customer):
    response = _post_customer(staff_client, customer, overage_unit_cost=typed)
    cost = Customer.objects.get().overage_unit_cost
    check(expected, None if cost == Decimal("0.0025") else cost, text_of(response))


@pytest.fixture
def sent(bill_in, customer):
    return bill_in(Status.SENT, customer=customer)  # 1,250.00 due


def _paid() -> Decimal | None:
    return Payment.objects.values_list("amount", flat=True).first()


@pytest.mark.parametrize(("typed", "expected"), AMOUNTS)
def test_the_payment_form(typed, expected, page_as, finance, sent):
    data = {
        "intent": "record_payment",
        "date": sent.invoice.issued_on.isoformat(),
        "amount": typed,
        "reference": "BANK 77",
    }
    response = page_as(finance).post(f"/bills/{sent.pk}/payments", data, **htmx("bill"))
    check(expected, _paid(), text_of(response))


@pytest.mark.parametrize(("typed", "expected"), AMOUNTS)
def test_the_payment_api(typed, expected, api_as, finance, sent):
    body = {"date": sent.invoice.issued_on.isoformat(), "amount": typed, "reference": "BANK 77"}
    response = api_as(finance).post(f"/api/bills/{sent.pk}/payments", body, format="json")
    check(expected, _paid(), messages_of(response.json()))


# --- the fields say what they take ---------------------------------------------------------------


def test_every_money_field_says_it_takes_a_dot(page_as, finance, staff_client, customer, bill):
    admin = text_of(
        staff_client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    )
    assert "Price per API call over the limit. Use a dot for decimals: 0.0025." in admin
    detail = text_of(page_as(finance).get(f"/bills/{bill.pk}"))
    assert "(now 0.0025). Use a dot for decimals: 0.0025.</p>" in detail


def test_the_payment_field_says_it_takes_a_dot(page_as, finance, sent):
    html = text_of(page_as(finance).get(f"/bills/{sent.pk}"))
    assert "Use a dot for decimals, no thousands separators: 1250.50.</p>" in html
