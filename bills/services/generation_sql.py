"""The month end's SQL on PostgreSQL (services.generation): one statement per chunk of customers.

CHUNK_SQL takes the `size` customers after id `after` (in id order) and, in one statement:
reads each one's usage of the month (none: 0), whether it has a live bill, and its terms in
force for the month (customers.selectors.customer_terms_of_month's rule: the latest version
starting on or before the month, else the first version; no versions: the customer's own
columns); judges each (SPEC "Computing a bill": overage units = max(usage - limit, 0), amount =
units x unit cost rounded half-up to cents); inserts the bills and one `created` history row
each; and returns rows of (kind, reason, id, name, n):

    BILL   one per new bill: id = the bill's id
    COUNT  one per skip reason: n = how many customers of the chunk it skipped
    NAME   the first `named` skipped customers of each reason by (name, id), names compared
           by code point (COLLATE "C", as Python compares str): id, name
    LAST   once, unless the chunk is empty: id = its last customer id, n = its customers

The statement starts with the comment /* month end chunk ... */, so an operator (and a test)
finds it in pg_stat_activity, whose copy of a query is cut at track_activity_query_size.
The month's live bills are read as a hashed subplan (`IN (SELECT ...)`), never as a join the
planner could turn into a rescan of bills_bill per new bill (bench/month_end_sql.py's note).
"""

from __future__ import annotations

from datetime import datetime

from accounts.models import User
from billing_site.core import periods

# What the statement's rows are (module docstring) and the skip reasons, as the result and the
# pages name them.
BILL, COUNT, NAME, LAST = "bill", "count", "name", "last"
NOT_UNDER_CONTRACT = "not under contract"
ALREADY_BILLED = "already billed"
NO_OVERAGE = "no overage"
ROUNDS_TO_ZERO = "amount rounds to 0.00"

# Only this module's constants are formatted in; every value is a bound parameter.
CHUNK_SQL = f"""
/* month end chunk: bills and their history */
WITH chunk AS (
    SELECT c.id, c.name, c.start_date, c.end_date, c.monthly_api_limit, c.overage_unit_cost,
           c.require_csm_approval
    FROM customers_customer AS c
    WHERE c.id > %(after)s
    ORDER BY c.id
    LIMIT %(size)s
),
terms AS (
    SELECT DISTINCT ON (v.customer_id) v.customer_id, v.id, v.monthly_api_limit,
           v.overage_unit_cost, v.require_csm_approval
    FROM customers_customerterms AS v
    WHERE v.customer_id IN (SELECT id FROM chunk)
    ORDER BY v.customer_id,
             (v.effective_year * 12 + v.effective_month <= %(period)s) DESC,
             CASE WHEN v.effective_year * 12 + v.effective_month <= %(period)s
                  THEN -(v.effective_year * 12 + v.effective_month)
                  ELSE v.effective_year * 12 + v.effective_month END
),
inputs AS (
    SELECT c.id, c.name,
           coalesce(u.api_usage, 0) AS api_usage,
           coalesce(t.monthly_api_limit, c.monthly_api_limit) AS monthly_api_limit,
           coalesce(t.overage_unit_cost, c.overage_unit_cost) AS overage_unit_cost,
           coalesce(t.require_csm_approval, c.require_csm_approval) AS require_csm_approval,
           t.id AS terms_id,
           NOT (c.start_date <= %(last_day)s
                AND (c.end_date IS NULL OR c.end_date >= %(first_day)s)) AS out_of_contract,
           c.id IN (SELECT b.customer_id FROM bills_bill AS b
                    WHERE b.year = %(year)s AND b.month = %(month)s
                      AND b.status <> 'void') AS billed
    FROM chunk AS c
    LEFT JOIN usage_usage AS u
           ON u.customer_id = c.id AND u.year = %(year)s AND u.month = %(month)s
          -- The chunk's range, so usage_period_idx reads the chunk's rows, not the month's.
          AND u.customer_id > %(after)s AND u.customer_id <= (SELECT max(id) FROM chunk)
    LEFT JOIN terms AS t ON t.customer_id = c.id
),
priced AS (
    SELECT i.*, greatest(i.api_usage - i.monthly_api_limit, 0) AS overage_units,
           round(greatest(i.api_usage - i.monthly_api_limit, 0) * i.overage_unit_cost, 2)
               AS overage_amount
    FROM inputs AS i
),
judged AS (
    SELECT p.*,
           CASE WHEN p.out_of_contract THEN '{NOT_UNDER_CONTRACT}'
                WHEN p.billed THEN '{ALREADY_BILLED}'
                WHEN p.overage_units = 0 THEN '{NO_OVERAGE}'
                WHEN p.overage_amount = 0 THEN '{ROUNDS_TO_ZERO}' END AS reason
    FROM priced AS p
),
new_bills AS (
    INSERT INTO bills_bill (
        customer_id, year, month, api_usage, monthly_api_limit, overage_units,
        overage_unit_cost, overage_amount, amount_paid, currency, requires_csm_approval,
        terms_id, status, computed_at, created_at, updated_at, version)
    SELECT j.id, %(year)s, %(month)s, j.api_usage, j.monthly_api_limit, j.overage_units,
           j.overage_unit_cost, j.overage_amount, 0, %(currency)s, j.require_csm_approval,
           j.terms_id, 'draft', %(now)s, %(now)s, %(now)s, 1
    FROM judged AS j
    WHERE j.reason IS NULL
    ORDER BY j.id
    RETURNING id
),
history AS (
    INSERT INTO bills_billaction (
        bill_id, stakeholder_id, stakeholder_name, stakeholder_role, action, comment,
        from_status, to_status, changes, created_at, updated_at)
    SELECT n.id, %(user_id)s, %(user_name)s, %(user_role)s, 'created', '', '', 'draft',
           '{{}}'::jsonb, %(now)s, %(now)s
    FROM new_bills AS n
)
SELECT '{BILL}', NULL, n.id, NULL, NULL FROM new_bills AS n
UNION ALL
SELECT '{COUNT}', j.reason, NULL, NULL, count(*) FROM judged AS j
WHERE j.reason IS NOT NULL GROUP BY j.reason
UNION ALL
SELECT '{NAME}', r.reason, s.id, s.name, NULL
FROM (VALUES ('{NOT_UNDER_CONTRACT}'), ('{ALREADY_BILLED}'), ('{NO_OVERAGE}'),
             ('{ROUNDS_TO_ZERO}')) AS r (reason)
CROSS JOIN LATERAL (
    SELECT j.id, j.name FROM judged AS j WHERE j.reason = r.reason
    ORDER BY j.name COLLATE "C", j.id LIMIT %(named)s
) AS s
UNION ALL
SELECT '{LAST}', NULL, max(c.id), NULL, count(*) FROM chunk AS c HAVING count(*) > 0
"""  # noqa: S608


def chunk_params(
    *, year: int, month: int, user: User, currency: str, now: datetime, named: int, size: int
) -> dict:
    """CHUNK_SQL's parameters but `after`: the month (and its first and last day, and its
    number year * 12 + month for comparing terms versions), the user the history rows name
    (their current name and role, SPEC "BillAction"), the bills' currency and timestamps, how
    many skipped customers to name per reason and the chunk size."""
    return {
        "year": year,
        "month": month,
        "period": year * 12 + month,
        "first_day": periods.first_day(year, month),
        "last_day": periods.last_day(year, month),
        "user_id": user.pk,
        "user_name": user.name,
        "user_role": user.role,
        "currency": currency,
        "now": now,
        "named": named,
        "size": size,
    }
