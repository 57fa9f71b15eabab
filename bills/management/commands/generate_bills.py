"""Month-end billing, for cron: `manage.py generate_bills [--year Y --month M] [--as NAME]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from accounts.management.acting_user import finance_user
from billing_site.core import periods
from billing_site.core.errors import DomainError
from bills.services import bill_generate


class Command(BaseCommand):
    help = (
        "Bill every customer with overage in one month, in one transaction. "
        "Without --year/--month it bills the last month that has ended. "
        "Customers already billed for the month (by a bill that is not void) are skipped, so "
        "running it twice is safe. The bills and their history name the Finance user given by "
        "--as; without --as, the only active Finance user is used, and the command stops if "
        "there is none or more than one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, help="The year to bill (give with --month).")
        parser.add_argument("--month", type=int, help="The month to bill, 1-12 (with --year).")
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="NAME",
            help="The Finance user the bills are created by (default: the only Finance user).",
        )

    def handle(self, *args, year: int | None, month: int | None, as_user: str | None, **options):
        if (year is None) != (month is None):
            raise CommandError("Give --year and --month together, or neither for the last month.")
        if year is None:
            year, month = periods.last_ended_month()
        if not 1 <= month <= 12:
            raise CommandError("--month is a month number from 1 to 12.")
        user = finance_user(as_user, may="generate bills", acting="create the bills as")
        verbose = options["verbosity"] >= 1

        def progress(message: str) -> None:
            if verbose:
                self.stdout.write(message)

        progress(f"Billing {periods.label(year, month)} as {user.name}.")
        bar = _Bar(self.stdout if verbose and self.stdout.isatty() else None)
        try:
            result = bill_generate(
                year=year, month=month, user=user, progress=progress, counted=bar.count
            )
        except DomainError as exc:
            bar.close()
            details = [
                f"{name}: {' '.join(msgs)}"
                for name, msgs in exc.errors.items()
                if msgs != [exc.message]
            ]
            raise CommandError(" ".join([exc.message, *details])) from exc
        bar.close()
        self.stdout.write(self.style.SUCCESS(_summary(result.created, result.skipped_reasons)))


class _Bar:
    """A tqdm bar of the customers gone through, on a terminal only (cron's log gets the
    phases' lines alone)."""

    def __init__(self, out) -> None:
        self.out = out
        self.bar = None

    def count(self, processed: int, total: int) -> None:
        if self.out is None:
            return
        if self.bar is None:
            self.bar = tqdm(total=total, unit="customers", desc="Billing")
        self.bar.n = processed
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _summary(created: int, reasons: dict[str, int]) -> str:
    skipped = sum(reasons.values())
    text = f"Done: created {created:,} bill{'s' * (created != 1)}; skipped {skipped:,}"
    if reasons:
        why = ", ".join(f"{n:,} {reason}" for reason, n in sorted(reasons.items()))
        text += f" ({why})"
    return text + "."
