"""Usage from the shell: `manage.py import_usage FILE.csv [--as NAME]`, files of any size."""

from __future__ import annotations

import io
import os
import sys
import time
from itertools import islice
from typing import BinaryIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from accounts.management.acting_user import finance_user
from billing_site.core.errors import DomainError
from bills.selectors import bill_list_stale
from usage.csv_import import CsvRowsError, recorded_summary
from usage.csv_reader import HEADER, HEADER_BY_NAME, CsvFileError
from usage.models import UsageSource
from usage.selectors import usage_revised_rows
from usage.services.imports import MAX_ERRORS, usage_import_csv

SHOWN_STALE = 50
STALE_CHUNK = 5_000


class Command(BaseCommand):
    help = (
        f"Record usage from a CSV file with the header {HEADER} (or {HEADER_BY_NAME}, by exact "
        "customer name), of any size: the file is streamed, checked whole, then written in one "
        "transaction. All or nothing: if any line is bad, the bad lines are listed (the first "
        "--max-errors) and nothing is written. Each row sets that customer-month's total; only "
        "changed months are written, each with a revision. The usage is recorded by the Finance "
        "user given by --as; without --as, the only active Finance user."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE.csv", help="The CSV file, or - for stdin.")
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="NAME",
            help="The Finance user who records it (default: the only Finance user).",
        )
        parser.add_argument(
            "--max-errors",
            type=int,
            default=MAX_ERRORS,
            metavar="N",
            help=f"List at most N problems of a refused file (default {MAX_ERRORS}).",
        )

    def handle(self, *args, file: str, as_user: str | None, max_errors: int, **options):
        user = finance_user(as_user, may="record usage", acting="record the usage as")
        progress = _Progress(self, file, options["verbosity"])
        now = timezone.now()
        try:
            with _open(file, progress.advance) as stream:
                result = usage_import_csv(
                    stream=stream,
                    file_name=os.path.basename(file) if file != "-" else "stdin",
                    user=user,
                    max_errors=max(1, max_errors),
                    on_phase=progress.phase,
                    now=now,
                )
        except CsvFileError as error:
            raise CommandError(f"{file}: {error.message}") from error
        except CsvRowsError as error:
            raise CommandError(_refusal(file, error)) from error
        except DomainError as error:
            raise CommandError(f"{file}: {error.message}") from error
        finally:
            progress.close()
        progress.done()
        self.stdout.write(self.style.SUCCESS(recorded_summary(result)))
        if result.changed:
            self._stale_bills(user=user, now=now)

    def _stale_bills(self, *, user, now) -> None:
        # Only the months this import changed, read back from its revisions in chunks, so the
        # memory does not grow with the file.
        rows = usage_revised_rows(user=user, source=UsageSource.COMMAND, at=now)
        stale = []
        while chunk := list(islice(rows, STALE_CHUNK)):
            stale += bill_list_stale(chunk)
        if not stale:
            return
        n = len(stale)
        self.stdout.write(
            self.style.WARNING(
                f"{n:,} bill{' was' if n == 1 else 's were'} computed from older usage; "
                f"recompute {'it' if n == 1 else 'them'} from the bill page:"
            )
        )
        for bill in stale[:SHOWN_STALE]:
            self.stdout.write(
                f"  /bills/{bill.pk}  {bill.customer.name}, {bill.period} ({bill.status}; "
                f"computed from {bill.api_usage:,} calls, now {bill.current_usage:,})"
            )
        if n > SHOWN_STALE:
            self.stdout.write(
                f"  and {n - SHOWN_STALE:,} more: /dashboard?usage_changed=true lists them all"
            )


def _refusal(file: str, error: CsvRowsError) -> str:
    bad = error.bad_lines
    listed = len({e.line for e in error.line_errors})
    head = f"{file}: nothing was recorded; {bad:,} line{'s' * (bad != 1)} to fix"
    head += f" (the first {listed:,} listed):" if listed < bad else ":"
    lines = [
        f"line {e.line}{f', {e.field}' if e.field else ''}: {e.message}" for e in error.line_errors
    ]
    return "\n".join([head, *lines])


class _Progress:
    """A tqdm bar of the bytes read when stdout is a terminal, then a line per step; plain
    lines only otherwise (for a log), none at verbosity 0."""

    def __init__(self, command: BaseCommand, file: str, verbosity: int):
        self.out = command.stdout
        self.quiet = verbosity == 0
        self.file = file
        self.size = os.path.getsize(file) if file != "-" and os.path.isfile(file) else None
        self.started = self.step_started = time.monotonic()
        self.bar = None
        if not self.quiet and self.out.isatty():
            self.bar = tqdm(total=self.size, unit="B", unit_scale=True, desc="Reading")

    def advance(self, size: int) -> None:
        if self.bar is not None:
            self.bar.update(size)

    def phase(self, name: str, rows: int) -> None:
        took = self._lap()
        if name == "reading":
            size = f" ({self.size / 1024 / 1024:,.1f} MB)" if self.size is not None else ""
            if self.bar is None:
                self._say(f"Reading {self.file}{size}…")
            return
        self.close()
        if name == "checking":
            self._say(f"Read {rows:,} rows in {took:.1f} s; checking them…")
        else:
            self._say(f"Checked in {took:.1f} s; writing…")

    def done(self) -> None:
        took = self._lap()
        self._say(f"Wrote in {took:.1f} s ({time.monotonic() - self.started:.1f} s in all).")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _lap(self) -> float:
        now = time.monotonic()
        took, self.step_started = now - self.step_started, now
        return took

    def _say(self, line: str) -> None:
        if not self.quiet:
            self.out.write(line)


class _Metered(io.RawIOBase):
    """A binary stream that reports the bytes read (for the progress bar)."""

    def __init__(self, raw: BinaryIO, report):
        self.raw, self.report = raw, report

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        if n:
            self.report(n)
        return n

    def close(self) -> None:
        if self.raw is not sys.stdin.buffer:
            self.raw.close()
        super().close()


def _open(path: str, report) -> io.BufferedReader:
    if path == "-":
        raw = sys.stdin.buffer
    else:
        try:
            raw = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the reader
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
    return io.BufferedReader(_Metered(raw, report), buffer_size=1 << 20)
