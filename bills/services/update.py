"""Finance's update of a draft or rejected bill (SPEC "Bill lifecycle": updated): recompute it
from current usage and terms, or reprice it with a new unit cost for this bill only."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Perm, require
from billing_site.core import periods
from billing_site.core.errors import DomainError
from billing_site.core.money import format_money, with_currency
from bills.models import Action, Bill, Status
from bills.services import lifecycle
from bills.services.history import HistoryEntry, bill_save, clean_comment, jsonable
from bills.services.pricing import (
    overage_amount_for,
    overage_units_for,
    parse_unit_cost,
    reprice_needs_confirming,
)
from customers.selectors import customer_terms_for
from usage.selectors import usage_of_month

# The columns an update may change; the history row keeps each one's [before, after].
TRACKED_FIELDS = (
    "api_usage",
    "monthly_api_limit",
    "overage_units",
    "overage_unit_cost",
    "overage_amount",
    "requires_csm_approval",
)


def bill_update(
    *,
    bill: Bill | int,
    user: User,
    comment: str,
    overage_unit_cost: Decimal | str | None = None,
    confirm: bool = False,
    version: int | None = None,
) -> Bill:
    """Recompute the bill from the month's current usage and the customer's terms in force for
    that month (customers.selectors.customer_terms_for); with
    `overage_unit_cost` (a price per call, see pricing.parse_unit_cost), reprice it instead.
    An approved bill may be recomputed while its month's usage differs from what it was
    computed from (SPEC "Bill lifecycle": recompute first).

    The bill returns to draft and earlier approvals stop counting. A comment is required. A
    reprice by more than ten times, or to more than 1,000,000.00, needs `confirm=True`.
    Raises DomainError: not_found; forbidden (not Finance); conflict (not draft or rejected,
    nor approved with changed usage);
    invalid naming "comment" (blank, or no overage left to bill), "overage_unit_cost" (not
    a price, or one that makes the amount round to 0.00) or "confirm" (a large reprice).
    """
    comment = clean_comment(comment, required_to="update a bill")
    new_cost = None if overage_unit_cost in (None, "") else parse_unit_cost(overage_unit_cost)
    with transaction.atomic():
        bill = lifecycle.bill_lock(bill=bill)
        require(user, Perm.UPDATE_BILL, bill)
        lifecycle.check(bill, "update", version=version)
        customer = bill.customer
        before = {name: getattr(bill, name) for name in TRACKED_FIELDS}
        api_usage = usage_of_month(customer_id=customer.pk, year=bill.year, month=bill.month)
        terms = customer_terms_for(customer=customer, year=bill.year, month=bill.month)
        units = overage_units_for(api_usage, terms.monthly_api_limit)
        if units == 0:
            raise DomainError.invalid(
                f"With current usage ({api_usage:,}) and limit ({terms.monthly_api_limit:,}) "
                f"there is no overage for {periods.label(bill.year, bill.month)}: nothing to bill. "
                "Ask Sales or the CSM to reject the bill instead.",
                "comment",
            )
        cost = new_cost if new_cost is not None else terms.overage_unit_cost
        if overage_amount_for(units, cost) == 0:
            raise DomainError.invalid(
                f"At {cost} per call the {units:,} calls over the limit come to 0.00: nothing to "
                "bill. Ask Sales or the CSM to reject the bill instead.",
                "overage_unit_cost" if new_cost is not None else "comment",
            )
        new_amount = overage_amount_for(units, cost)
        large = reprice_needs_confirming(bill.overage_amount, new_amount)
        if new_cost is not None and large and not confirm:
            before_text = with_currency(format_money(bill.overage_amount), bill.currency)
            after_text = with_currency(format_money(new_amount), bill.currency)
            raise DomainError.invalid(
                f"Repricing takes the amount from {before_text} to {after_text}: confirm that "
                "this is intended.",
                "confirm",
            )
        bill.api_usage = api_usage
        bill.monthly_api_limit = terms.monthly_api_limit
        bill.overage_units = units
        bill.overage_unit_cost = cost
        bill.overage_amount = overage_amount_for(units, cost)
        bill.requires_csm_approval = terms.require_csm_approval
        bill.terms_id = terms.id
        changes = {
            name: [jsonable(before[name]), jsonable(getattr(bill, name))]
            for name in TRACKED_FIELDS
            if before[name] != getattr(bill, name)
        }
        if bill.approvals_given:
            changes["approvals_cleared"] = bill.approvals_given
        from_status = bill.status
        if from_status == Status.APPROVED:
            changes["reason"] = "usage changed after approval"
        bill.status = Status.DRAFT
        bill.computed_at = timezone.now()
        for slot in ("csm", "sales"):
            setattr(bill, f"{slot}_approved_by", None)
            setattr(bill, f"{slot}_approved_at", None)
        entry = HistoryEntry(
            stakeholder=user,
            action=Action.UPDATED,
            from_status=from_status,
            comment=comment,
            changes=changes,
        )
        return bill_save(bill=bill, entry=entry)


def bill_dismiss_usage_change(
    *, bill: Bill | int, user: User, comment: str, version: int | None = None
) -> Bill:
    """Keep a sent invoice as it is although its month's usage changed after sending: the flag
    ("usage changed after sending") goes away until the usage changes again. A comment saying
    why is required; the history keeps the billed and the current usage.

    Raises DomainError: not_found; forbidden (not Finance); conflict (not sent, or its usage did
    not change); invalid naming "comment".
    """
    comment = clean_comment(comment, required_to="dismiss the usage change")
    with transaction.atomic():
        bill = lifecycle.bill_lock(bill=bill)
        require(user, Perm.UPDATE_BILL, bill)
        lifecycle.check(bill, "dismiss", version=version)
        usage = bill.month_usage()
        bill.dismissed_usage = usage
        entry = HistoryEntry(
            stakeholder=user,
            action=Action.FLAG_DISMISSED,
            from_status=Status.SENT,
            comment=comment,
            changes={"api_usage": [bill.api_usage, usage]},
        )
        return bill_save(bill=bill, entry=entry)
