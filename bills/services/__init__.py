"""Every write to a bill (SPEC "Bill lifecycle"). The HTML views, the API and the commands call
these and decide nothing themselves.

Each service checks the role (accounts.roles), then the bill's status against the lifecycle
table under the bill's row lock, and is atomic; it saves through history.bill_save, so the
post-save signal writes exactly one BillAction. Each transition also takes `version`, the bill's
version the caller decided on: under the lock, a bill that changed since is a 409
(lifecycle.check_version; None keeps the old behaviour of deciding on the bill as it is).

    pricing      what a bill charges, and the parser of a unit cost
    lifecycle    the status table, the buttons, the row and month locks
    history      the one way a history row is written
    creation     bill_create, bill_rebill
    generation   bill_generate: the month end, set-based (generation_sql on PostgreSQL)
    decisions    bill_approve, bill_reject, bill_revert
    update       bill_update (recompute or reprice), bill_dismiss_usage_change
    invoicing    bill_send, bill_void (with documents: the numbered invoice, the credit note)
    jobs         generation_start, bulk_send_start, job_get: work the worker runs
    outbox       their emails: queued in the same transaction, delivered by the worker;
                 delivery_resend
    bulk         bulk_preview, bulk_apply: approve, reject or send many bills, one at a time
    payments     payment_record, payment_undo (a sent bill is paid once its payments cover it)
"""

from bills.services.creation import bill_create, bill_rebill
from bills.services.decisions import bill_approve, bill_reject, bill_revert
from bills.services.generation import GenerationResult, bill_generate
from bills.services.invoicing import bill_send, bill_void
from bills.services.jobs import (
    bulk_send_start,
    generation_result_of,
    generation_start,
    job_get,
)
from bills.services.lifecycle import bill_available_actions
from bills.services.outbox import delivery_resend
from bills.services.payments import payment_record, payment_undo
from bills.services.pricing import (
    overage_amount_for,
    overage_exact_amount,
    overage_units_for,
    parse_unit_cost,
)
from bills.services.update import bill_dismiss_usage_change, bill_update

__all__ = [
    "GenerationResult",
    "bill_approve",
    "bill_available_actions",
    "bill_create",
    "bill_dismiss_usage_change",
    "bill_generate",
    "bill_rebill",
    "bill_reject",
    "bill_revert",
    "bill_send",
    "bill_update",
    "bill_void",
    "bulk_send_start",
    "job_get",
    "generation_result_of",
    "generation_start",
    "delivery_resend",
    "overage_amount_for",
    "overage_exact_amount",
    "overage_units_for",
    "parse_unit_cost",
    "payment_record",
    "payment_undo",
]
