"""How big the database gets: fill a scratch PostgreSQL database with N customers and measure
rows, on-disk sizes and a few of the pages' queries (issue 12, docs/scaling.md "What the database
carries").

    createdb -h 127.0.0.1 -U postgres billing_scale
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/billing_scale
    .venv/bin/python manage.py migrate
    nice .venv/bin/python bench/scale_sizes.py --customers 100000     # fill and measure
    nice .venv/bin/python bench/scale_sizes.py --customers 1000000    # grow to 1M, measure again
    dropdb -h 127.0.0.1 -U postgres billing_scale

Per customer: one creation row in its history, 24 months of usage (2024-01 to 2025-12, one row
per customer-month) each with the one revision its import wrote. For 2025-12, the month closed:
about a third of the customers are over their limit and have a bill, approved and sent, with its
invoice (the PDF the app renders, about 20 kB) and three history rows (created, approved, sent).

Everything is set-based SQL (INSERT ... SELECT generate_series), and a second run only adds the
customers above the current largest id, so the database grows from one size to the next. It
refuses a database whose name does not contain "scale" (it fills what it is pointed at).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_site.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-insecure-key-0123456789abcdefghijklmnop")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Sum  # noqa: E402

from bills.models import Bill  # noqa: E402
from bills.pdf import PdfDocument, PdfLine, render_pdf  # noqa: E402
from bills.selectors import bill_list  # noqa: E402
from usage.models import Usage  # noqa: E402

MONTHS = 24  # 2024-01 .. 2025-12
BILL_YEAR, BILL_MONTH = 2025, 12
# The tables the fill writes, in the order the report lists them.
TABLES = (
    "customers_customer",
    "customers_historicalcustomer",
    "usage_usage",
    "usage_usagerevision",
    "bills_bill",
    "bills_billaction",
    "bills_invoice",
)

USERS_SQL = """
INSERT INTO accounts_user (password, is_superuser, name, name_key, email, role, session_token,
                           is_active, is_staff, date_joined, notify_digest)
SELECT '!', false, u.name, lower(u.name), u.name || '@example.com', u.role, md5(u.name), true,
       false, now(), false
FROM (VALUES ('scale-finance', 'Finance'), ('scale-sales', 'Sales'),
             ('scale-csm', 'Customer Success')) AS u(name, role)
ON CONFLICT DO NOTHING
"""

# %(first)s .. %(last)s are the new customers' ids; the users are looked up by name.
CUSTOMERS_SQL = """
INSERT INTO customers_customer (id, name, billing_address, billing_email, csm_id,
    monthly_api_limit, overage_unit_cost, require_csm_approval, payment_terms_days, start_date,
    end_date, created_at, updated_at)
SELECT i, 'Customer ' || lpad(i::text, 7, '0'), i || ' Market Street' || E'\\n' || 'Springfield',
       'billing+' || i || '@customer' || i || '.example',
       CASE WHEN i %% 2 = 0 THEN (SELECT id FROM accounts_user WHERE name = 'scale-csm') END,
       100000 * (1 + i %% 50), 0.0025, i %% 5 = 0, 30, DATE '2024-01-01', NULL, now(), now()
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
"""

CUSTOMER_HISTORY_SQL = """
INSERT INTO customers_historicalcustomer (id, name, billing_address, billing_email,
    monthly_api_limit, overage_unit_cost, require_csm_approval, payment_terms_days, start_date,
    end_date, created_at, history_date, history_change_reason, history_type, csm_id,
    history_user_id)
SELECT c.id, c.name, c.billing_address, c.billing_email, c.monthly_api_limit,
       c.overage_unit_cost, c.require_csm_approval, c.payment_terms_days, c.start_date,
       c.end_date, c.created_at, c.created_at,
       NULL, '+', c.csm_id, (SELECT u.id FROM accounts_user u WHERE u.name = 'scale-finance')
FROM customers_customer c WHERE c.id BETWEEN %(first)s AND %(last)s ORDER BY c.id
"""

# Month k = 0..23 is 2024-01 + k. A customer is over its limit in month k when (id + k) % 3 = 0:
# a third of them in any month, 2025-12 (k = 23) included.
USAGE_SQL = """
INSERT INTO usage_usage (customer_id, year, month, api_usage, created_at, updated_at)
SELECT c.id, 2024 + k / 12, k %% 12 + 1,
       CASE WHEN (c.id + k) %% 3 = 0
            THEN c.monthly_api_limit + 1 + (c.id * 7919 + k * 104729) %% (c.monthly_api_limit / 2)
            ELSE c.monthly_api_limit * ((c.id * 31 + k * 17) %% 90 + 5) / 100 END,
       now(), now()
FROM customers_customer c CROSS JOIN generate_series(0, %(months)s - 1) AS k
WHERE c.id BETWEEN %(first)s AND %(last)s
ORDER BY k, c.id
"""

USAGE_REVISIONS_SQL = """
INSERT INTO usage_usagerevision (usage_id, old_value, new_value, user_id, source, file_name,
                                 created_at)
SELECT u.id, NULL, u.api_usage, (SELECT id FROM accounts_user WHERE name = 'scale-finance'),
       'csv', 'usage-' || u.year || '-' || lpad(u.month::text, 2, '0') || '.csv', u.created_at
FROM usage_usage u WHERE u.customer_id BETWEEN %(first)s AND %(last)s ORDER BY u.id
"""

BILLS_SQL = """
INSERT INTO bills_bill (customer_id, year, month, api_usage, monthly_api_limit, overage_units,
    overage_unit_cost, overage_amount, amount_paid, currency, requires_csm_approval, status,
    csm_approved_by_id, csm_approved_at, sales_approved_by_id, sales_approved_at, computed_at,
    created_at, updated_at, version)
SELECT c.id, u.year, u.month, u.api_usage, c.monthly_api_limit,
       u.api_usage - c.monthly_api_limit, c.overage_unit_cost,
       round((u.api_usage - c.monthly_api_limit) * c.overage_unit_cost, 2), 0, 'USD',
       c.require_csm_approval, 'sent',
       CASE WHEN c.require_csm_approval
            THEN (SELECT id FROM accounts_user WHERE name = 'scale-csm') END,
       CASE WHEN c.require_csm_approval THEN now() END,
       (SELECT id FROM accounts_user WHERE name = 'scale-sales'), now(), now(), now(), now(), 3
FROM customers_customer c
JOIN usage_usage u ON u.customer_id = c.id AND u.year = %(year)s AND u.month = %(month)s
WHERE c.id BETWEEN %(first)s AND %(last)s AND u.api_usage > c.monthly_api_limit
ORDER BY c.id
"""

BILL_ACTIONS_SQL = """
INSERT INTO bills_billaction (bill_id, stakeholder_id, stakeholder_name, stakeholder_role,
    action, comment, from_status, to_status, changes, created_at, updated_at)
SELECT b.id, u.id, u.name, u.role, a.action, '', a.from_status, a.to_status,
       CASE WHEN a.action = 'sent'
            THEN jsonb_build_object('invoice', '2025-' || lpad(b.id::text, 7, '0'))
            ELSE '{}'::jsonb END,
       now(), now()
FROM bills_bill b
CROSS JOIN (VALUES (1, 'created', '', 'draft', 'scale-finance'),
                   (2, 'approved', 'draft', 'approved', 'scale-sales'),
                   (3, 'sent', 'approved', 'sent', 'scale-finance')) AS a(n, action, from_status,
                                                                        to_status, user_name)
JOIN accounts_user u ON u.name = a.user_name
WHERE b.customer_id BETWEEN %(first)s AND %(last)s
ORDER BY b.id, a.n
"""

INVOICES_SQL = """
INSERT INTO bills_invoice (bill_id, number, issued_on, due_on, seller_name, seller_address,
    seller_contact, bill_to_name, bill_to_address, bill_to_email, amount, currency, pdf,
    delivered_at, created_at, year, month, api_usage, monthly_api_limit, overage_units,
    overage_unit_cost)
SELECT b.id, '2025-' || lpad(b.id::text, 7, '0'), DATE '2026-01-02', DATE '2026-02-01',
       'API Co.', E'1 Example Way\\nSpringfield', 'billing@localhost', c.name, c.billing_address,
       c.billing_email, b.overage_amount, b.currency, %(pdf)s, now(), now(), b.year, b.month,
       b.api_usage, b.monthly_api_limit, b.overage_units, b.overage_unit_cost
FROM bills_bill b JOIN customers_customer c ON c.id = b.customer_id
WHERE b.customer_id BETWEEN %(first)s AND %(last)s
ORDER BY b.id
"""

SIZES_SQL = """
SELECT pg_relation_size(%(t)s::regclass), pg_indexes_size(%(t)s::regclass),
       pg_total_relation_size(%(t)s::regclass)
"""


def invoice_pdf_bytes() -> bytes:
    """One invoice as the app renders it (bills.pdf.render_pdf): the bytes every filled invoice
    stores, so the table's size includes real PDFs (about 20 kB each)."""
    document = PdfDocument(
        title="Invoice",
        number="2025-0000123",
        mark="",
        seller_name="API Co.",
        seller_address="1 Example Way\nSpringfield",
        seller_contact="billing@localhost",
        facts=[("Issued", "2 Jan 2026"), ("Due", "1 Feb 2026"), ("Period", "December 2025")],
        bill_to_name="Customer 0000123",
        bill_to_address="123 Market Street\nSpringfield",
        bill_to_email="billing+123@customer123.example",
        currency="USD",
        lines=[
            PdfLine(
                "API calls over the monthly limit of 2,400,000 in December 2025",
                "123,456",
                "0.0025",
                "308.64",
            )
        ],
        total_label="Amount due",
        total="308.64",
        notes=["Payment is due within 30 days of the invoice date."],
    )
    return render_pdf(document)


def step(cursor, label: str, sql: str, params: dict) -> None:
    """Run one fill statement and print its row count and wall time."""
    start = time.perf_counter()
    cursor.execute(sql, params)
    print(f"  {label:<32} {cursor.rowcount:>12,} rows {time.perf_counter() - start:8.1f} s")


def fill(customers: int) -> None:
    """Add customers (and their usage, revisions, bills, history, invoices) up to `customers`.

    One transaction (a failed run adds nothing); the ids continue from the largest customer id
    present.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM customers_customer")
        first = cursor.fetchone()[0] + 1
    if first > customers:
        print(f"already {first - 1:,} customers: nothing to add")
        return
    params = {
        "first": first,
        "last": customers,
        "months": MONTHS,
        "year": BILL_YEAR,
        "month": BILL_MONTH,
        "pdf": invoice_pdf_bytes(),
    }
    print(f"filling customers {first:,} to {customers:,}")
    with transaction.atomic(), connection.cursor() as cursor:
        step(cursor, "users", USERS_SQL, params)
        step(cursor, "customers", CUSTOMERS_SQL, params)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('customers_customer', 'id'), %(last)s)", params
        )
        step(cursor, "customer history", CUSTOMER_HISTORY_SQL, params)
        step(cursor, "usage", USAGE_SQL, params)
        step(cursor, "usage revisions", USAGE_REVISIONS_SQL, params)
        step(cursor, "bills", BILLS_SQL, params)
        step(cursor, "bill history", BILL_ACTIONS_SQL, params)
        step(cursor, "invoices", INVOICES_SQL, params)
    with connection.cursor() as cursor:
        start = time.perf_counter()
        cursor.execute("VACUUM (ANALYZE)")
        print(f"  {'vacuum analyze':<32} {'':>17} {time.perf_counter() - start:8.1f} s")


def mb(size: int) -> str:
    return f"{size / 2**20:,.0f} MB" if size < 10 * 2**30 else f"{size / 2**30:,.1f} GB"


def report_sizes() -> None:
    """Print a Markdown table: rows, heap, indexes and total (with TOAST) per table, and the
    database's size (pg_database_size)."""
    print("\n| table | rows | table | indexes | total |")
    print("| --- | ---: | ---: | ---: | ---: |")
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (a fixed name)
            rows = cursor.fetchone()[0]
            cursor.execute(SIZES_SQL, {"t": table})
            heap, indexes, total = cursor.fetchone()
            print(f"| {table} | {rows:,} | {mb(heap)} | {mb(indexes)} | {mb(total)} |")
        cursor.execute("SELECT pg_database_size(current_database())")
        print(f"\npg_database_size: {mb(cursor.fetchone()[0])}")


def execution_ms(plan: str) -> str:
    found = re.search(r"Execution Time: ([0-9.]+) ms", plan)
    return found.group(1) if found else "?"


def report_queries() -> None:
    """EXPLAIN ANALYZE a few of the pages' queries, each run twice (the second, warm, counts):
    the dashboard's first and last page and its status tiles for the billed month, a month's
    usage total and one customer's usage history; and the wall time of the month's bill count."""
    month = {"year": BILL_YEAR, "month": BILL_MONTH}
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) / 2 FROM customers_customer")
        middle = cursor.fetchone()[0]
    start = time.perf_counter()
    bills = bill_list().filter(**month).count()
    wall = (time.perf_counter() - start) * 1000
    print(f"\n- the month's bill count (the paginator's): {bills:,} in {wall:.0f} ms (wall)")
    last = max(bills - 50, 0)
    queries = {
        "dashboard first page (50 rows)": lambda: bill_list().filter(**month)[:50],
        f"dashboard last page (OFFSET {last:,})": lambda: bill_list().filter(**month)[
            last : last + 50
        ],
        "dashboard status tiles": lambda: (
            Bill.objects.filter(**month)
            .values("status")
            .annotate(n=Count("id"), amount=Sum("overage_amount"))
            .order_by("status")
        ),
        "a month's usage total": lambda: (
            Usage.objects.filter(**month).values("year").annotate(total=Sum("api_usage")).order_by()
        ),
        "one customer's 24 months": lambda: Usage.objects.filter(customer_id=middle).order_by(
            "-year", "-month"
        ),
    }
    for label, make in queries.items():
        make().explain(analyze=True)
        plan = make().explain(analyze=True, buffers=True)
        top = plan.splitlines()[0].strip()
        print(f"- {label}: {execution_ms(plan)} ms  [{top[:110]}]")
        if os.environ.get("SCALE_PLANS"):
            print(plan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, required=True, help="grow to this many")
    parser.add_argument("--measure-only", action="store_true", help="measure, add nothing")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or "scale" not in connection.settings_dict["NAME"]:
        sys.exit("Point DATABASE_URL at a PostgreSQL database whose name contains 'scale'.")
    if not args.measure_only:
        fill(args.customers)
    report_sizes()
    report_queries()


if __name__ == "__main__":
    main()
