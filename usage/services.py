"""Recording usage: one month's total per customer, all or nothing, in set-based SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Perm, can
from billing_site.core import periods
from billing_site.core.errors import DomainError
from customers.models import Customer
from usage.models import Usage

MAX_ITEMS = 10_000
MAX_USAGE = 2**63 - 1
FIELDS = ("customer_id", "year", "month", "api_usage")
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,20}")


@dataclass
class UsageResult:
    created: int
    updated: int


def _int(value: Any) -> int | None:
    # JSON numbers only (or digit strings from CSV/forms); never a bool or a float like 1.5.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _validate_item(item: Any, today) -> tuple[dict[str, int] | None, dict[str, list[str]]]:
    if not isinstance(item, dict):
        return None, {"non_field_errors": ["Each item must be an object."]}
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(item) - set(FIELDS))
    for name in unknown:
        errors[str(name)] = ["Unknown field."]
    values: dict[str, int] = {}
    for name in FIELDS:
        if name not in item or item[name] is None:
            errors[name] = ["This field is required."]
            continue
        number = _int(item[name])
        if number is None:
            errors[name] = ["Enter a whole number."]
            continue
        values[name] = number
    # An id past 64 bits can never match, and SQLite cannot even bind it (OverflowError, a 500).
    if "customer_id" in values and not 1 <= values["customer_id"] <= MAX_USAGE:
        errors["customer_id"] = [f"Enter a customer id from 1 to {MAX_USAGE}."]
    if "year" in values and not periods.MIN_YEAR <= values["year"] <= periods.MAX_YEAR:
        errors["year"] = [f"Enter a year between {periods.MIN_YEAR} and {periods.MAX_YEAR}."]
    if "month" in values and not 1 <= values["month"] <= 12:
        errors["month"] = ["Enter a month from 1 to 12."]
    if "api_usage" in values and not 0 <= values["api_usage"] <= MAX_USAGE:
        errors["api_usage"] = ["Usage must be between 0 and 9223372036854775807."]
    period_ok = "year" not in errors and "month" not in errors and {"year", "month"} <= set(values)
    if period_ok and (values["year"], values["month"]) > (today.year, today.month):
        errors["month"] = ["This month is in the future; usage can be recorded once it starts."]
    return (None if errors else values), errors


def usage_record_many(*, items: list[Any], user: User) -> UsageResult:
    """Set each customer-month's total. Any bad item refuses the whole batch.

    Raises DomainError(kind="invalid") whose `errors` maps an item's index to its field errors,
    e.g. {"3": {"api_usage": ["..."]}}; nothing is written then.
    """
    if not can(user, Perm.RECORD_USAGE):
        raise DomainError.forbidden(f"Your role ({user.role}) may not record usage.")
    if not isinstance(items, list) or not items:
        raise DomainError.invalid("Send one usage item or a non-empty list of them.", "items")
    if len(items) > MAX_ITEMS:
        raise DomainError.invalid(f"Send at most {MAX_ITEMS:,} items at a time.", "items")
    today = periods.today()
    by_index: dict[str, dict[str, list[str]]] = {}
    clean: list[tuple[int, dict[str, int]]] = []
    for index, item in enumerate(items):
        values, errors = _validate_item(item, today)
        if errors:
            by_index[str(index)] = errors
        else:
            clean.append((index, values))
    known = set(
        Customer.objects.filter(id__in={v["customer_id"] for _, v in clean}).values_list(
            "id", flat=True
        )
    )
    seen: dict[tuple[int, int, int], int] = {}
    for index, values in clean:
        key = (values["customer_id"], values["year"], values["month"])
        if values["customer_id"] not in known:
            by_index[str(index)] = {"customer_id": [f"No customer has id {values['customer_id']}."]}
        elif key in seen:
            by_index[str(index)] = {
                "month": [f"Item {seen[key]} already sets this customer-month; send it once."]
            }
        else:
            seen[key] = index
    if by_index:
        raise DomainError(
            f"{len(by_index)} of {len(items)} usage items are invalid; nothing was recorded.",
            kind="invalid",
            errors=by_index,  # type: ignore[arg-type]
        )
    return _upsert([values for _, values in clean])


def _upsert(rows: list[dict[str, int]]) -> UsageResult:
    now = timezone.now()
    customer_ids = {r["customer_id"] for r in rows}
    periods_sent = {(r["year"], r["month"]) for r in rows}
    with transaction.atomic():
        existing = {
            (c, y, m)
            for c, y, m in Usage.objects.filter(customer_id__in=customer_ids)
            .filter(year__in={y for y, _ in periods_sent}, month__in={m for _, m in periods_sent})
            .values_list("customer_id", "year", "month")
        }
        Usage.objects.bulk_create(
            [
                Usage(
                    customer_id=r["customer_id"],
                    year=r["year"],
                    month=r["month"],
                    api_usage=r["api_usage"],
                    created_at=now,
                    updated_at=now,
                )
                for r in rows
            ],
            update_conflicts=True,
            unique_fields=["customer", "year", "month"],
            update_fields=["api_usage", "updated_at"],
        )
    updated = sum((r["customer_id"], r["year"], r["month"]) in existing for r in rows)
    return UsageResult(created=len(rows) - updated, updated=updated)


def usage_record(
    *, customer: Customer, year: int, month: int, api_usage: int, user: User
) -> UsageResult:
    return usage_record_many(
        items=[{"customer_id": customer.pk, "year": year, "month": month, "api_usage": api_usage}],
        user=user,
    )
