"""The month-end benchmark's SQL (issue 14, "Build" 1): the data set, the raw-SQL floor and the
reset between runs. PostgreSQL only; every function takes a DB-API cursor (Django's or
psycopg's) and the billed (year, month).

The data set: customer i (ids 1..N in a fresh database) has a limit of 1,000,000 plus up to
999,000 calls, a price per call of 0.001000 to 0.001750, requires CSM approval when i % 5 == 0
(a fifth), and 24 months of usage ending with the billed month, over the limit in the billed
month when i % 3 == 0 (a third). Every 50th customer's contract ended before the billed month,
so the floor and the service both have a customer to skip for that reason.
"""

from __future__ import annotations

from datetime import timedelta

from billing_site.core import periods

CUSTOMERS_SQL = """
INSERT INTO customers_customer (
    name, billing_address, billing_email, monthly_api_limit, overage_unit_cost,
    require_csm_approval, payment_terms_days, start_date, end_date, created_at, updated_at)
SELECT 'Bench customer ' || lpad(i::text, 6, '0'), '', 'ap' || i || '@bench.example',
       1000000 + (i %% 1000) * 1000, (0.001 + (i %% 7) * 0.000125)::numeric(14, 6),
       i %% 5 = 0, 30, DATE '2020-01-01',
       CASE WHEN i %% 50 = 49 THEN %(before)s::date END, now(), now()
FROM generate_series(1, %(n)s) AS i
"""

# k = 0 is the billed month, k = 23 the oldest; p counts months from year 0.
USAGE_SQL = """
INSERT INTO usage_usage (customer_id, year, month, api_usage, created_at, updated_at)
SELECT c.id, p / 12, p %% 12 + 1,
       CASE WHEN k > 0 THEN c.monthly_api_limit * (50 + (c.id * 31 + k * 17) %% 100) / 100
            WHEN c.id %% 3 = 0 THEN c.monthly_api_limit + 1 + (c.id * 7919) %% 500000
            ELSE c.monthly_api_limit - (c.id * 104729) %% 900000 END,
       now(), now()
FROM customers_customer AS c
CROSS JOIN generate_series(0, 23) AS k
CROSS JOIN LATERAL (SELECT %(p)s - k AS p) AS period
"""

# One statement: the month's bills (amount = round-half-up((usage - limit) * unit cost, 2);
# PostgreSQL's round(numeric) rounds half away from zero, which is half-up for amounts >= 0)
# and one `created` history row each. Customers under contract in the month, with overage that
# does not round to 0.00 and no live bill. The data set has no terms versions, so the
# customer's own columns are the terms in force (as bill_generate reads them then).
# NOT IN (customer_id is NOT NULL), not NOT EXISTS: the month's bills are read once into a
# hashed subplan. As an anti-join, the planner (bills_bill empty after the reset) picks a
# nested loop that rescans bills_bill per new bill, including the rows this statement is
# inserting: quadratic, 10 s instead of well under 1 s at 100,000 customers.
FLOOR_SQL = """
WITH new_bills AS (
    INSERT INTO bills_bill (
        customer_id, year, month, api_usage, monthly_api_limit, overage_units,
        overage_unit_cost, overage_amount, amount_paid, currency, requires_csm_approval,
        status, computed_at, created_at, updated_at, version)
    SELECT c.id, %(year)s, %(month)s, u.api_usage, c.monthly_api_limit,
           u.api_usage - c.monthly_api_limit, c.overage_unit_cost,
           round((u.api_usage - c.monthly_api_limit) * c.overage_unit_cost, 2), 0,
           %(currency)s, c.require_csm_approval, 'draft', now(), now(), now(), 1
    FROM customers_customer AS c
    JOIN usage_usage AS u ON u.customer_id = c.id AND u.year = %(year)s AND u.month = %(month)s
    WHERE c.start_date <= %(last)s AND (c.end_date IS NULL OR c.end_date >= %(first)s)
      AND u.api_usage > c.monthly_api_limit
      AND round((u.api_usage - c.monthly_api_limit) * c.overage_unit_cost, 2) > 0
      AND c.id NOT IN (
          SELECT b.customer_id FROM bills_bill AS b
          WHERE b.year = %(year)s AND b.month = %(month)s AND b.status <> 'void')
    RETURNING id, created_at
)
INSERT INTO bills_billaction (
    bill_id, stakeholder_id, stakeholder_name, stakeholder_role, action, comment,
    from_status, to_status, changes, created_at, updated_at)
SELECT id, %(user_id)s, %(user_name)s, %(user_role)s, 'created', '', '', 'draft', '{}'::jsonb,
       created_at, created_at
FROM new_bills
"""


def fill(cursor, *, customers: int, year: int, month: int) -> None:
    """Insert the data set: `customers` customers and 24 usage rows each (module docstring),
    then ANALYZE. Expects empty tables (ids from 1)."""
    before = periods.first_day(year, month) - timedelta(days=1)
    cursor.execute(CUSTOMERS_SQL, {"n": customers, "before": before})
    cursor.execute(USAGE_SQL, {"p": year * 12 + month - 1})
    cursor.execute("ANALYZE customers_customer; ANALYZE usage_usage")


def floor_insert(cursor, *, year: int, month: int, user, currency: str) -> int:
    """Run FLOOR_SQL as `user` (a Finance User); returns the number of history rows, which is
    the number of bills made."""
    cursor.execute(
        FLOOR_SQL,
        {
            "year": year,
            "month": month,
            "first": periods.first_day(year, month),
            "last": periods.last_day(year, month),
            "currency": currency,
            "user_id": user.pk,
            "user_name": user.name,
            "user_role": user.role,
        },
    )
    return cursor.rowcount


def month_bills(cursor, *, year: int, month: int) -> tuple[int, str]:
    """(how many bills, their total as a string) of the month."""
    cursor.execute(
        "SELECT count(*), coalesce(sum(overage_amount), 0) FROM bills_bill "
        "WHERE year = %s AND month = %s",
        [year, month],
    )
    count, total = cursor.fetchone()
    return int(count), str(total)


def reset(connection, *, year: int, month: int) -> None:
    """Remove the month's bills and their history rows, then VACUUM ANALYZE both tables, so
    the next run starts from the same state. History refuses row DELETEs whatever the session
    says; TRUNCATE is allowed with the maintenance hatch open (billing_site.core.maintenance),
    and the bench database holds no other history. `connection`: Django's, in autocommit."""
    from billing_site.core.maintenance import maintenance

    with maintenance(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE bills_billaction")
        cursor.execute("DELETE FROM bills_bill WHERE year = %s AND month = %s", [year, month])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE bills_bill")
        cursor.execute("VACUUM ANALYZE bills_billaction")
