"""Usage from the shell: `manage.py import_usage FILE.csv [--as NAME]`, the page's CSV upload."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.management.acting_user import finance_user
from billing_site.core.errors import DomainError
from bills.selectors import bill_list_stale
from usage.csv_import import (
    HEADER,
    HEADER_BY_NAME,
    MAX_BYTES,
    CsvFileError,
    CsvRowsError,
    parse_usage_csv,
    recorded_summary,
    usage_record_csv,
)


class Command(BaseCommand):
    help = (
        f"Record usage from a CSV file with the header {HEADER} (or {HEADER_BY_NAME}, by exact "
        "customer name), up to 10,000 rows and 2 MB, exactly as the Record usage page does. All "
        "or nothing: if any row is bad, every bad line is listed and nothing is written. Each "
        "row sets that customer-month's total. The usage is recorded by the Finance user given "
        "by --as; without --as, the only active Finance user."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE.csv", help="The CSV file, or - for stdin.")
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="NAME",
            help="The Finance user who records it (default: the only Finance user).",
        )

    def handle(self, *args, file: str, as_user: str | None, **options):
        user = finance_user(as_user, may="record usage", acting="record the usage as")
        try:
            parsed = parse_usage_csv(_read(file))
            result = usage_record_csv(parsed=parsed, user=user)
        except CsvFileError as error:
            raise CommandError(f"{file}: {error.message}") from error
        except CsvRowsError as error:
            errors = error.line_errors
            bad = len({e.line for e in errors})
            lines = [
                f"line {e.line}{f', {e.field}' if e.field else ''}: {e.message}" for e in errors
            ]
            raise CommandError(
                "\n".join(
                    [f"{file}: nothing was recorded; {bad} line{'s' * (bad != 1)} to fix:", *lines]
                )
            ) from error
        except DomainError as error:
            raise CommandError(f"{file}: {error.message}") from error
        self.stdout.write(self.style.SUCCESS(recorded_summary(result)))
        stale = bill_list_stale(parsed.rows)
        if stale:
            self.stdout.write(
                self.style.WARNING(
                    f"{len(stale)} bill{' was' if len(stale) == 1 else 's were'} computed from "
                    f"older usage; recompute {'it' if len(stale) == 1 else 'them'} from the "
                    "bill page:"
                )
            )
            for bill in stale:
                self.stdout.write(
                    f"  /bills/{bill.pk}  {bill.customer.name}, {bill.period} ({bill.status}; "
                    f"computed from {bill.api_usage:,} calls, now {bill.current_usage:,})"
                )


def _read(path: str) -> bytes:
    # One byte past the limit is enough to refuse a file as too big without reading all of it.
    if path == "-":
        return sys.stdin.buffer.read(MAX_BYTES + 1)
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
