"""GET /api/bills.csv: the bill fields, the same filters and order as GET /api/bills, streamed,
login required."""

from __future__ import annotations

import csv
import io

import pytest
from django.http import StreamingHttpResponse

from bills.models import Status
from tests.factories import MONTH, YEAR, CustomerFactory, make_bill


def _rows(response) -> list[dict[str, str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_bills_csv_has_the_bill_fields(finance, api_as, bill_in, customer):
    bill = bill_in(Status.DRAFT, customer=customer, api_usage=1_000_401)
    response = api_as(finance).get("/api/bills.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="bills.csv"'
    (row,) = _rows(response)
    assert list(row) == [
        "id",
        "customer_id",
        "customer_name",
        "year",
        "month",
        "api_usage",
        "monthly_api_limit",
        "overage_units",
        "overage_unit_cost",
        "overage_amount",
        "currency",
        "status",
        "approvals_needed",
        "invoice_number",
        "issued_on",
        "due_on",
        "amount_paid",
        "balance_due",
        "overdue",
        "credit_note_number",
        "replaces_id",
        "replaced_by_id",
        "created_at",
        "updated_at",
        "billing_address",
    ]
    assert {k: row[k] for k in list(row)[:13]} == {
        "id": str(bill.pk),
        "customer_id": str(customer.pk),
        "customer_name": "Acme Corp",
        "year": str(YEAR),
        "month": str(MONTH),
        "api_usage": "1000401",
        "monthly_api_limit": "1000000",
        "overage_units": "401",
        "overage_unit_cost": "0.002500",
        "overage_amount": "1.00",
        "currency": "USD",
        "status": "draft",
        "approvals_needed": "1",
    }
    assert row["created_at"].startswith(f"{bill.created_at:%Y-%m-%dT%H:%M}")
    assert row["billing_address"] == customer.billing_address  # its line break kept, quoted


def test_a_sent_bill_exports_its_invoice_as_sent(finance, api_as, bill_in, customer):
    bill = bill_in(Status.SENT, customer=customer)
    customer.billing_address = "Moved since"
    customer.save()
    (row,) = _rows(api_as(finance).get("/api/bills.csv"))
    assert row["invoice_number"] == bill.invoice.number
    assert (row["issued_on"], row["due_on"]) == (
        bill.invoice.issued_on.isoformat(),
        bill.invoice.due_on.isoformat(),
    )
    assert row["billing_address"] == bill.invoice.bill_to_address != "Moved since"


def test_bills_csv_takes_the_list_filters(finance, api_as, customer, bill_in):
    other = CustomerFactory(name="Globex")
    bill_in(Status.APPROVED, customer=customer)
    make_bill(customer=other, finance=finance, year=YEAR, month=MONTH)
    make_bill(customer=other, finance=finance, year=2024, month=MONTH)
    client = api_as(finance)
    assert [r["status"] for r in _rows(client.get("/api/bills.csv?status=approved"))] == [
        "approved"
    ]
    assert len(_rows(client.get(f"/api/bills.csv?customer_id={other.pk}"))) == 2
    assert len(_rows(client.get("/api/bills.csv?year=2024"))) == 1
    assert len(_rows(client.get(f"/api/bills.csv?month={MONTH}"))) == 3
    assert len(_rows(client.get("/api/bills.csv?customer=GLOB"))) == 2
    assert len(_rows(client.get(f"/api/bills.csv?period={YEAR}-{MONTH:02d}"))) == 2


def test_bills_csv_takes_the_list_order(finance, api_as, customer):
    other = CustomerFactory(name="Globex")
    make_bill(customer=customer, finance=finance, year=YEAR, month=MONTH, api_usage=1_100_000)
    make_bill(customer=other, finance=finance, year=YEAR, month=MONTH, api_usage=1_900_000)
    make_bill(customer=other, finance=finance, year=2024, month=MONTH, api_usage=1_500_000)
    client = api_as(finance)
    default = [(r["customer_name"], r["year"]) for r in _rows(client.get("/api/bills.csv"))]
    assert default == [("Acme Corp", "2025"), ("Globex", "2025"), ("Globex", "2024")]
    by_amount = [r["overage_amount"] for r in _rows(client.get("/api/bills.csv?sort=amount"))]
    assert by_amount == ["2250.00", "1250.00", "250.00"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=settled", "status"), ("period=2025-13", "period"), ("sort=cheapest", "sort")],
)
def test_bills_csv_with_a_bad_filter_is_a_json_400(finance, api_as, query, field):
    response = api_as(finance).get(f"/api/bills.csv?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == [field]


def test_bills_csv_needs_a_login(db, anon):
    assert anon.get("/api/bills.csv").status_code == 401


def test_bills_csv_defuses_spreadsheet_formulas_in_names(finance, api_as):
    evil = CustomerFactory(name='=HYPERLINK("http://evil.example","x")')
    make_bill(customer=evil, finance=finance, year=YEAR, month=MONTH)
    (row,) = _rows(api_as(finance).get("/api/bills.csv"))
    assert row["customer_name"] == "'" + evil.name
