"""A usage file of any size, from the shell (`manage.py import_usage`): streamed, all or nothing.

The file is read line by line (usage.csv_reader: the page's rules, without its size limits) and
its rows streamed into the batch's staging table (COPY on PostgreSQL, batched INSERTs on
SQLite), never held in memory. Every line is checked before anything is written: the reader's
problems as the lines stream past, the batch's in SQL once they are all staged. Then ONE upsert
and ONE insert of the revisions, in the same transaction.

Imported by the command itself, not by usage.services (the reader imports the services).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import BinaryIO

from django.db import transaction

from accounts.models import User
from billing_site.core import periods
from usage.csv_import import CsvRowsError
from usage.csv_reader import CsvFileError, CsvLineError, UsageCsv, line_error
from usage.models import UsageSource
from usage.services.batch import StagedRow, UsageBatch, UsageResult
from usage.services.recording import usage_require_recorder

MAX_ERRORS = 100

Phase = Callable[[str, int], None]


def usage_import_csv(
    *,
    stream: BinaryIO,
    file_name: str,
    user: User,
    copy: bool | None = None,
    max_errors: int = MAX_ERRORS,
    on_phase: Phase | None = None,
    now: datetime | None = None,
) -> UsageResult:
    """Record a usage CSV file of any length (usage.csv_reader's format) by `user`, all or
    nothing: each row sets its customer-month's total (API calls); only changed months are
    written, each with a revision (source command, `file_name`, `now`).

    `copy`: stage with COPY (PostgreSQL's default) or batched INSERTs (SQLite; copy=False forces
    it). `on_phase(name, rows)` is told "reading", "checking" (rows read) and "writing".

    Raises DomainError(kind="forbidden") for a role other than Finance; CsvFileError for a file
    that cannot be read as a whole (bad UTF-8, header, quoting, no rows); CsvRowsError listing
    the first `max_errors` problems by line (and counting every bad line) when any line is bad:
    nothing is written then.
    """
    usage_require_recorder(user=user)
    phase = on_phase or (lambda name, rows: None)
    reader = UsageCsv(stream)
    refused = _Refused(max_errors)
    with transaction.atomic(), UsageBatch(numbered="line", copy=copy) as batch:
        phase("reading", 0)
        batch.add(_good_rows(reader, refused))
        if not reader.count:
            raise CsvFileError("The file has a header but no rows of usage.", code="no_rows")
        phase("checking", reader.count)
        found, bad = batch.check(today=periods.today(), cap=max_errors)
        if refused.lines or found:
            errors = refused.errors + [
                line_error(e, line=e.row, by_name=reader.by_name) for e in found
            ]
            errors.sort(key=lambda e: e.line)
            raise CsvRowsError(errors[:max_errors], bad_lines=refused.lines + bad)
        phase("writing", reader.count)
        return batch.write(user=user, source=UsageSource.COMMAND, file_name=file_name, now=now)


class _Refused:
    """The reader's refusals: every bad line counted, the first `cap` lines' errors kept."""

    def __init__(self, cap: int):
        self.cap = cap
        self.lines = 0
        self.errors: list[CsvLineError] = []

    def add(self, errors: list[CsvLineError]) -> None:
        self.lines += 1
        if self.lines <= self.cap:
            self.errors += errors


def _good_rows(reader: UsageCsv, refused: _Refused) -> Iterator[StagedRow]:
    for item in reader.rows():
        if isinstance(item, list):
            refused.add(item)
        else:
            yield item
