"""A file of usage on the record page: previewed first, then confirmed.

The preview checks the rows and compares them with the recorded usage, writing nothing but a
UsageUpload: the rows as read, each with the value its customer-month held then. The Confirm
applies exactly those rows, through the same batch as every other recording, and only if no
customer-month changed since the preview; a second Confirm of the same preview writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from billing_site.core import periods
from billing_site.core.errors import DomainError
from usage.models import UsageSource, UsageUpload
from usage.services.batch import StagedRow, UsageBatch, UsageChange, UsageResult
from usage.services.recording import usage_require_recorder
from usage.services.rows import UsageRow, UsageRowError, UsageRowsError

# What the page takes: 50,000 rows stage, check and compare in about a second, and their preview
# (~2 MB as JSON) is small enough to keep between the two requests. Bigger files: import_usage.
MAX_FILE_ROWS = 50_000
PREVIEW_TTL = timedelta(hours=1)
KEEP = timedelta(days=1)
SHOWN_DRIFT = 3


@dataclass(frozen=True)
class UsagePreview:
    """What confirming `upload` would do: the counts, and every change (a new month: old None),
    by line."""

    upload: UsageUpload
    result: UsageResult
    changes: list[UsageChange]


@dataclass(frozen=True)
class UsageConfirmation:
    """What a Confirm did, and the rows it applied."""

    upload: UsageUpload
    result: UsageResult
    rows: list[UsageRow]


def usage_lines_check(*, rows: Sequence[StagedRow], user: User) -> list[UsageRowError]:
    """Every problem of a file's readable rows, by line, writing nothing: for a file that has
    unreadable lines too, so one upload lists them all. `rows`: (line, customer_id, year, month,
    api_usage), digits already read. Raises DomainError(kind="forbidden") for a role that may not
    record usage."""
    usage_require_recorder(user=user)
    with transaction.atomic(), UsageBatch(numbered="line") as batch:
        batch.add(rows)
        return batch.check(today=periods.today())[0]


def usage_upload_preview(*, rows: Sequence[StagedRow], file_name: str, user: User) -> UsagePreview:
    """Check a file's rows (line, customer_id, year, month, api_usage; 1 to MAX_FILE_ROWS) and
    compare them with the recorded usage; keep them as a UsageUpload of `user` for the Confirm.
    Writes no usage.

    Raises DomainError(kind="forbidden") for a role other than Finance; DomainError(kind=
    "invalid", field "file") for no rows or more than MAX_FILE_ROWS; UsageRowsError by line
    (the same rules as usage_record_many: ranges, a started month, a known customer, each
    customer-month once).
    """
    usage_require_recorder(user=user)
    if not rows or len(rows) > MAX_FILE_ROWS:
        raise DomainError.invalid(f"Send 1 to {MAX_FILE_ROWS:,} rows.", "file")
    with transaction.atomic():
        with UsageBatch(numbered="line") as batch:
            batch.add(rows)
            errors, bad = batch.check(today=periods.today())
            if errors:
                raise UsageRowsError(errors, total=len(rows), bad_rows=bad)
            result = batch.compare()
            changes = batch.changes()
        held = {change.row: change.old for change in changes}
        kept = [[*row[:5], held.get(row[0], row[4])] for row in rows]
        now = timezone.now()
        UsageUpload.objects.filter(created_at__lt=now - KEEP).delete()
        upload = UsageUpload.objects.create(
            user=user, file_name=file_name[:255], rows=kept, created_at=now
        )
    return UsagePreview(upload=upload, result=result, changes=changes)


def usage_upload_confirm(*, upload_id: object, user: User) -> UsageConfirmation:
    """Record the rows `user` previewed as upload `upload_id`, exactly as previewed: all or
    nothing, only the changed customer-months, each with a revision (source csv, the file's
    name). Returns the counts and the rows.

    Raises DomainError(kind="forbidden") for a role other than Finance; DomainError(kind=
    "not_found") for no such preview of this user; DomainError(kind="conflict") when it was
    already confirmed (nothing more is written), expired (PREVIEW_TTL), or when a previewed
    customer-month's usage changed since the preview (preview again); UsageRowsError if a row
    no longer passes (a customer deleted since).
    """
    usage_require_recorder(user=user)
    with transaction.atomic():
        upload = _locked(upload_id, user)
        if upload.confirmed_at is not None:
            done = UsageResult(**upload.result)
            raise DomainError.conflict(
                f"{upload.file_name} was already recorded at "
                f"{timezone.localtime(upload.confirmed_at):%H:%M} ({done.total:,} rows, "
                f"{done.changed:,} changed); this Confirm changed nothing."
            )
        if upload.created_at < timezone.now() - PREVIEW_TTL:
            raise DomainError.conflict(
                "This preview has expired (previews are kept for an hour); upload the file "
                "again to see the current changes."
            )
        with UsageBatch(numbered="line") as batch:
            batch.add(tuple(row) for row in upload.rows)
            errors, bad = batch.check(today=periods.today())
            if errors:
                raise UsageRowsError(errors, total=len(upload.rows), bad_rows=bad)
            batch.lock()
            drifted, count = batch.drifted(limit=SHOWN_DRIFT)
            if count:
                raise DomainError.conflict(_drift_message(drifted, count))
            result = batch.write(user=user, source=UsageSource.CSV, file_name=upload.file_name)
        upload.confirmed_at = timezone.now()
        upload.result = result.as_dict()
        upload.save(update_fields=["confirmed_at", "result"])
    rows = [UsageRow(*row[1:5]) for row in upload.rows]
    return UsageConfirmation(upload=upload, result=result, rows=rows)


def _locked(upload_id: object, user: User) -> UsageUpload:
    # The row lock makes a double click's second Confirm wait for the first, then see it done.
    try:
        return UsageUpload.objects.select_for_update().get(pk=upload_id, user=user)
    except (UsageUpload.DoesNotExist, ValidationError, ValueError, TypeError) as error:
        raise DomainError(
            "This preview does not exist (or is not yours); upload the file again.",
            kind="not_found",
        ) from error


def _drift_message(drifted: list[UsageChange], count: int) -> str:
    def was(value: int | None) -> str:
        return "none" if value is None else f"{value:,}"

    listed = "; ".join(
        f"{c.customer_name}, {c.label}: {was(c.old)} at the preview, now {was(c.new)}"
        for c in drifted
    )
    more = f" and {count - len(drifted):,} more" if count > len(drifted) else ""
    return (
        f"The usage of {count:,} month{'s' * (count != 1)} changed since the preview "
        f"({listed}{more}). Nothing was recorded: upload the file again to preview the "
        "current changes."
    )
