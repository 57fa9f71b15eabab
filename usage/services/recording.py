"""Recording usage: one month's total per customer, all or nothing, every change with its revision.

`usage_record_many` is the one way a batch of items is recorded (the JSON API, the record page's
form, the admin); `usage_check_many` runs the same checks and writes nothing. Files go through
the same batch (usage.services.uploads for the page, usage.services.imports for the command).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from django.db import transaction

from accounts.models import User
from accounts.roles import Perm, can
from billing_site.core import periods
from billing_site.core.errors import DomainError
from customers.models import Customer
from usage.models import UsageSource
from usage.services.batch import StagedRow, UsageBatch, UsageResult
from usage.services.rows import (
    FIELDS,
    JSON,
    RANGES,
    UsageRow,
    UsageRowError,
    UsageRowsError,
    usage_row_parse,
)

MAX_ITEMS = 10_000

RawItem = Mapping[str, object] | UsageRow


def usage_check_many(*, items: Sequence[RawItem], user: User) -> list[UsageRowError]:
    """Every problem usage_record_many would refuse `items` for, row by row; writes nothing.

    For a caller that cannot record anyway and still wants every problem listed in one pass.
    Takes the same items (an empty list is fine: no problems). Raises DomainError(kind=
    "forbidden") for a role that may not record usage and DomainError(kind="invalid", field
    "items") for a batch that is not a list or is too long.
    """
    usage_require_recorder(user=user)
    _require_batch(items, allow_empty=True)
    staged, errors = _parsed(items)
    with transaction.atomic(), UsageBatch(numbered="item") as batch:
        batch.add(staged)
        found, _ = batch.check(today=periods.today())
    return sorted(errors + found, key=lambda error: error.row)


def usage_record_many(
    *, items: Sequence[RawItem], user: User, source: str, file_name: str = ""
) -> UsageResult:
    """Set each customer-month's total (API calls), creating or replacing it; all or nothing.

    `items`: 1 to MAX_ITEMS UsageRows, or raw rows as decoded from JSON (usage_row_parse with
    source JSON: numbers are JSON integers, a digit string is refused). On top of each row's
    schema: a month that has started (today, settings.TIME_ZONE), a customer that exists, and
    each customer-month once (SPEC "JSON API": POST /api/usage). `source` (a UsageSource) and
    `file_name` say where the values came from, for the revisions.

    Only the customer-months whose value changes are written, each with a UsageRevision (old
    value, or None for a new month; new value; `user`; `source`; now), in the same transaction;
    sending the same values again changes nothing. Returns the counts created, updated and
    unchanged.

    Raises DomainError(kind="forbidden") for a role other than Finance; DomainError(kind=
    "invalid", field "items") for a batch that is not a non-empty list of at most MAX_ITEMS;
    UsageRowsError (kind "invalid") listing every bad row. Nothing is written then.
    """
    usage_require_recorder(user=user)
    _require_batch(items, allow_empty=False)
    staged, errors = _parsed(items)
    with transaction.atomic(), UsageBatch(numbered="item") as batch:
        batch.add(staged)
        found, _ = batch.check(today=periods.today())
        if errors or found:
            raise UsageRowsError(sorted(errors + found, key=lambda e: e.row), total=len(items))
        return batch.write(user=user, source=source, file_name=file_name)


def usage_record(
    *,
    customer: Customer,
    year: int,
    month: int,
    api_usage: int,
    user: User,
    source: str = UsageSource.PAGE,
) -> UsageResult:
    """One customer-month's total (API calls): usage_record_many of one row, same rules, errors
    (the row is "0") and revision; `source` defaults to the record page's form."""
    row = UsageRow(customer_id=customer.pk, year=year, month=month, api_usage=api_usage)
    return usage_record_many(items=[row], user=user, source=source)


def usage_require_recorder(*, user: User) -> None:
    """Raises DomainError(kind="forbidden") unless the user's role may record usage
    (accounts.roles: Finance)."""
    if not can(user, Perm.RECORD_USAGE):
        raise DomainError.forbidden(f"Your role ({user.role}) may not record usage.")


def _require_batch(items: object, *, allow_empty: bool) -> None:
    if not isinstance(items, list | tuple) or not (items or allow_empty):
        raise DomainError.invalid("Send one usage item or a non-empty list of them.", "items")
    if len(items) > MAX_ITEMS:
        raise DomainError.invalid(f"Send at most {MAX_ITEMS:,} items at a time.", "items")


# The ranges of usage_row_parse (rows.RANGES), for the fast path of _parsed.
_ID, _YEAR, _MONTH, _USAGE = (RANGES[name][:2] for name in FIELDS)


def _parsed(items: Iterable[RawItem]) -> tuple[list[StagedRow], list[UsageRowError]]:
    """Each item through the row schema (JSON grammar: a UsageRow's ints pass as JSON
    integers): the good ones numbered by index, and the errors of the others.

    The fast path (issue 14: 10,000 items per request): an object of exactly the four FIELDS,
    each a JSON integer (an int, never a bool) in its range, is what usage_row_parse would
    accept unchanged, so it is staged as it is; any other item goes through usage_row_parse,
    which words its refusal."""
    staged: list[StagedRow] = []
    errors: list[UsageRowError] = []
    for index, item in enumerate(items):
        if type(item) is dict and len(item) == 4:  # noqa: E721 - exactly a dict, not a subclass
            c, y, m, u = (
                item.get("customer_id"),
                item.get("year"),
                item.get("month"),
                item.get("api_usage"),
            )
            if (
                type(c) is int  # noqa: E721 - bool is an int subclass and is refused
                and type(y) is int  # noqa: E721
                and type(m) is int  # noqa: E721
                and type(u) is int  # noqa: E721
                and _ID[0] <= c <= _ID[1]
                and _YEAR[0] <= y <= _YEAR[1]
                and _MONTH[0] <= m <= _MONTH[1]
                and _USAGE[0] <= u <= _USAGE[1]
            ):
                staged.append((index, c, y, m, u))
                continue
        raw = item._asdict() if isinstance(item, UsageRow) else item
        row, row_errors = usage_row_parse(raw=raw, row=index, source=JSON)
        if row is None:
            errors += row_errors
        else:
            staged.append((index, *row))
    return staged, errors
