"""`manage.py generate_bills`: month-end billing from cron, with progress and a summary."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Role
from billing_site.core import periods
from bills.models import Bill, BillAction
from tests.factories import MONTH, YEAR, CustomerFactory, UsageFactory, UserFactory


@pytest.fixture
def month_to_bill(db):
    for name, usage in [("Over A", 1_500_000), ("Over B", 2_000_000), ("Under", 10)]:
        UsageFactory(customer=CustomerFactory(name=name), year=YEAR, month=MONTH, api_usage=usage)


def run(*args: str) -> str:
    out = StringIO()
    call_command("generate_bills", *args, stdout=out)
    return out.getvalue()


def test_it_bills_the_month_and_prints_progress_and_a_summary(month_to_bill, finance):
    output = run("--year", str(YEAR), "--month", str(MONTH), "--as", "fiona")
    assert output.splitlines() == [
        "Billing March 2025 as fiona.",
        "Reading customers and their usage for March 2025 and writing their bills...",
        "Read 3 customers; wrote 2 bills and their history.",
        "Done: created 2 bills; skipped 1 (1 no overage).",
    ]
    assert Bill.objects.count() == 2
    assert set(BillAction.objects.values_list("stakeholder__name", flat=True)) == {"fiona"}


def test_a_second_run_skips_what_is_billed(month_to_bill, finance):
    run("--year", str(YEAR), "--month", str(MONTH))
    output = run("--year", str(YEAR), "--month", str(MONTH))
    assert "Done: created 0 bills; skipped 3 (2 already billed, 1 no overage)." in output
    assert Bill.objects.count() == 2


def test_quiet_prints_only_the_summary(month_to_bill, finance):
    out = StringIO()
    call_command(
        "generate_bills", "--year", str(YEAR), "--month", str(MONTH), verbosity=0, stdout=out
    )
    assert out.getvalue() == "Done: created 2 bills; skipped 1 (1 no overage).\n"


def test_it_defaults_to_the_last_ended_month(finance):
    year, month = periods.last_ended_month()
    UsageFactory(customer=CustomerFactory(), year=year, month=month, api_usage=1_500_000)
    output = run()
    assert f"Billing {periods.label(year, month)} as fiona." in output
    assert Bill.objects.get().period == f"{year}-{month:02d}"


def test_without_as_it_uses_the_only_finance_user(month_to_bill, finance, sales):
    assert "as fiona." in run("--year", str(YEAR), "--month", str(MONTH))


def test_without_as_it_stops_when_there_are_several_finance_users(month_to_bill, finance):
    UserFactory(name="frank", role=Role.FINANCE)
    with pytest.raises(CommandError, match=r"several Finance users \(fiona, frank\).*--as"):
        run("--year", str(YEAR), "--month", str(MONTH))
    assert not Bill.objects.exists()


def test_without_as_it_stops_when_there_is_no_finance_user(month_to_bill, sales):
    with pytest.raises(CommandError, match="no active Finance user"):
        run("--year", str(YEAR), "--month", str(MONTH))


def test_an_unknown_as_user_is_refused(month_to_bill, finance):
    with pytest.raises(CommandError, match="No user is named 'nobody'"):
        run("--year", str(YEAR), "--month", str(MONTH), "--as", "nobody")
    assert not Bill.objects.exists()


@pytest.mark.parametrize("who", ["sam", "casey"])
def test_a_non_finance_as_user_is_refused(who, month_to_bill, finance, sales, csm):
    with pytest.raises(CommandError, match="only Finance may generate bills"):
        run("--year", str(YEAR), "--month", str(MONTH), "--as", who)
    assert not Bill.objects.exists()


def test_a_deactivated_finance_user_is_refused(month_to_bill, finance):
    finance.is_active = False
    finance.save()
    with pytest.raises(CommandError, match="deactivated"):
        run("--year", str(YEAR), "--month", str(MONTH), "--as", "fiona")


def test_a_month_that_has_not_ended_is_refused(month_to_bill, finance):
    today = periods.today()
    with pytest.raises(CommandError, match="has not ended"):
        run("--year", str(today.year), "--month", str(today.month))
    assert not Bill.objects.exists()


def test_a_bad_month_is_refused(finance):
    with pytest.raises(CommandError, match="from 1 to 12"):
        run("--year", str(YEAR), "--month", "13")


def test_a_bad_year_is_refused(finance):
    with pytest.raises(CommandError, match="year: Enter a year between 2000 and 2999"):
        run("--year", "1999", "--month", "3")


def test_year_without_month_is_refused(finance):
    with pytest.raises(CommandError, match="together"):
        run("--year", str(YEAR))


def test_on_a_terminal_it_shows_a_progress_bar_of_the_customers(month_to_bill, finance, capsys):
    from io import StringIO

    class Terminal(StringIO):
        def isatty(self):
            return True

    out = Terminal()
    call_command("generate_bills", stdout=out)
    bar = capsys.readouterr().err  # tqdm's bar, on stderr
    assert "Billing" in bar and "customers" in bar and "100%" in bar
    assert out.getvalue().splitlines()[-1].startswith("Done: created")
