"""`manage.py import_usage FILE.csv [--as NAME]`: files of any size from a shell, the page's rules.

The big files (200,000 rows on PostgreSQL, memory that does not grow with the file) are in
test_import_scale.py."""

import io
import re
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Role
from billing_site.core import periods
from tests.factories import CustomerFactory, UsageFactory, UserFactory, make_bill
from usage.models import Usage, UsageRevision

pytestmark = pytest.mark.django_db

HEADER = "customer_id,year,month,api_usage\n"


@pytest.fixture
def write(tmp_path):
    def make(content: str | bytes, name: str = "usage.csv") -> str:
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return str(path)

    return make


def run(*args: str, verbosity: int = 0) -> str:
    out = StringIO()
    call_command("import_usage", *args, stdout=out, verbosity=verbosity)
    return out.getvalue()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert not Usage.objects.exists() and not UsageRevision.objects.exists()
    return str(caught.value)


def test_it_records_the_file_and_prints_a_summary(write, finance, customer):
    globex = CustomerFactory(name="Globex")
    UsageFactory(customer=customer, year=2025, month=3, api_usage=1)
    UsageFactory(customer=globex, year=2025, month=4, api_usage=30)
    path = write(
        HEADER + f"{customer.pk},2025,3,10\n{globex.pk},2025,3,20\n{globex.pk},2025,4,30\n"
    )
    assert run(path, "--as", "fiona").splitlines() == [
        "Recorded 3 rows, 2 changed: 1 new, 1 updated, 1 unchanged."
    ]
    assert sorted(Usage.objects.values_list("api_usage", flat=True)) == [10, 20, 30]


def test_each_change_gets_a_revision_by_the_user_with_the_file_name(write, finance, customer):
    UsageFactory(customer=customer, year=2025, month=3, api_usage=1)
    run(write(HEADER + f"{customer.pk},2025,3,10\n{customer.pk},2025,4,5\n", "march.csv"))
    assert list(
        UsageRevision.objects.order_by("id").values_list(
            "usage__month", "old_value", "new_value", "user__name", "source", "file_name"
        )
    ) == [
        (3, 1, 10, "fiona", "command", "march.csv"),
        (4, None, 5, "fiona", "command", "march.csv"),
    ]


def test_the_same_file_again_changes_nothing_and_says_so(write, finance, customer):
    path = write(HEADER + f"{customer.pk},2025,3,10\n{customer.pk},2025,4,5\n")
    run(path)
    assert run(path).splitlines() == ["Recorded 2 rows, 0 changed: 0 new, 0 updated, 2 unchanged."]
    assert UsageRevision.objects.count() == 2


def test_it_prints_its_steps_for_a_log(write, finance, customer):
    path = write(HEADER + f"{customer.pk},2025,3,10\n")
    lines = run(path, verbosity=1).splitlines()
    assert len(lines) == 5
    assert re.fullmatch(r"Reading .*usage\.csv \(0\.0 MB\)…", lines[0])
    assert re.fullmatch(r"Read 1 rows in \d+\.\d s; checking them…", lines[1])
    assert re.fullmatch(r"Checked in \d+\.\d s; writing…", lines[2])
    assert re.fullmatch(r"Wrote in \d+\.\d s \(\d+\.\d s in all\)\.", lines[3])
    assert lines[4] == "Recorded 1 row, 1 changed: 1 new, 0 updated, 0 unchanged."


def test_on_a_terminal_it_shows_a_progress_bar(write, finance, customer, monkeypatch, capsys):
    class Terminal(StringIO):
        def isatty(self):
            return True

    out = Terminal()
    call_command("import_usage", write(HEADER + f"{customer.pk},2025,3,10\n"), stdout=out)
    assert "Reading" in capsys.readouterr().err  # tqdm's bar, on stderr
    assert out.getvalue().splitlines()[-1].startswith("Recorded 1 row")
    assert "Reading" not in out.getvalue()


def test_customers_may_be_named(write, finance, customer):
    run(write("customer,year,month,api_usage\nAcme Corp,2025,3,10\n"), "--as", "fiona")
    assert Usage.objects.get().customer == customer


def test_bad_rows_are_listed_by_line_and_nothing_is_written(write, finance, customer):
    acme = customer.pk
    path = write(
        HEADER + f"{acme},2025,3,10\n{acme},2025,13,-1\n\n{acme},2025,3,5\n{acme},2025,14,5\n"
    )
    assert refused(path, "--as", "fiona").splitlines() == [
        f"{path}: nothing was recorded; 3 lines to fix:",
        "line 3, month: “13” is out of range: enter a month from 1 to 12.",
        "line 3, api_usage: “-1” is out of range: usage must be between 0 and 9223372036854775807.",
        f"line 5, month: Line 2 already sets customer {acme}, 2025-03; keep one.",
        "line 6, month: “14” is out of range: enter a month from 1 to 12.",
    ]


def test_one_unreadable_line_keeps_every_good_line_from_being_written(write, finance, customer):
    body = "".join(f"{customer.pk},2024,{m},{m}\n" for m in range(1, 13))
    path = write(HEADER + body + f"{customer.pk},2025,1,12k\n")
    assert refused(path).splitlines() == [
        f"{path}: nothing was recorded; 1 line to fix:",
        "line 14, api_usage: “12k” is not a whole number: type digits only.",
    ]


def test_every_kind_of_bad_line_names_its_value(write, finance, customer):
    future = periods.next_month(periods.today().year, periods.today().month)
    path = write(
        "customer,year,month,api_usage\n"
        "Nobody,2025,3,1\n"
        "Acme Corp,2025,3,250.000\n"
        "Acme Corp,2025,4,1\n"
        "Acme Corp,2025,4,2\n"
        f"Acme Corp,{future[0]},{future[1]},1\n"
        "Acme Corp,1999,5,1\n"
        "Acme Corp,2025\n"
    )
    assert refused(path, "--as", "fiona").splitlines() == [
        f"{path}: nothing was recorded; 6 lines to fix:",
        "line 2, customer: No customer is named “Nobody”.",
        "line 3, api_usage: “250.000” is not a whole number: type digits only.",
        f"line 5, month: Line 4 already sets customer {customer.pk}, 2025-04; keep one.",
        f"line 6, month: {future[0]}-{future[1]:02d} is in the future; usage can be recorded "
        "once the month starts.",
        "line 7, year: “1999” is out of range: enter a year between 2000 and 2999.",
        "line 8: Expected 4 values, found 2: “Acme Corp,2025”.",
    ]


def test_an_unknown_customer_id_is_named(write, finance, customer):
    path = write(HEADER + f"{customer.pk + 7},2025,3,1\n")
    assert (
        refused(path).splitlines()[1]
        == f"line 2, customer_id: No customer has id {customer.pk + 7}."
    )


def test_a_long_list_of_problems_is_cut_and_counted(write, finance, customer):
    body = "".join(f"{customer.pk},2025,13,{i}\n" for i in range(150))
    lines = refused(write(HEADER + body), "--max-errors", "3").splitlines()
    assert lines[0].endswith("nothing was recorded; 150 lines to fix (the first 3 listed):")
    assert len(lines) == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"1,2025,3,5\n", "The first line must be the header"),
        (b"customer_id,year,api_usage\n", "Wrong columns: missing month."),
        (HEADER.encode(), "The file has a header but no rows of usage."),
        ("customer_id,year,month,api_usage\n1,2025,3,5 \xe9\n".encode("cp1252"), "not UTF-8"),
        (HEADER.encode() + b"1,2025,3,1\x00\n", "Line 2 has a NUL character"),
        (HEADER.encode() + b'1,2025,3,"1\n', "could not be read as CSV"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused(write, finance, customer, content, message):
    assert message in refused(write(content), "--as", "fiona")


def test_a_file_bigger_than_the_page_takes_is_recorded(write, finance):
    # The page stops at 50,000 rows and 5 MB; the command has no limit.
    customers = CustomerFactory.create_batch(500)
    months = [(y, m) for y in range(2001, 2011) for m in range(1, 13)]
    UsageFactory(customer=customers[0], year=2001, month=1, api_usage=0)
    body = "".join(f"{c.pk},{y},{m},{i}\n" for i, c in enumerate(customers) for y, m in months)
    assert run(write(HEADER + body)).splitlines() == [
        "Recorded 60,000 rows, 59,999 changed: 59,999 new, 0 updated, 1 unchanged."
    ]
    assert Usage.objects.count() == 60_000 and UsageRevision.objects.count() == 59_999


def test_a_missing_file_is_a_clear_error(finance, tmp_path):
    assert "Cannot read" in refused(str(tmp_path / "nope.csv"), "--as", "fiona")


def test_it_prints_the_bills_to_recompute(write, finance):
    bill = make_bill(customer=CustomerFactory(name="Globex"), finance=finance, api_usage=1_500_000)
    year, month = periods.last_ended_month()
    output = run(write(HEADER + f"{bill.customer_id},{year},{month},1600000\n"), "--as", "fiona")
    assert output.splitlines()[1:] == [
        "1 bill was computed from older usage; recompute it from the bill page:",
        f"  /bills/{bill.pk}  Globex, {bill.period} (draft; computed from 1,500,000 calls, "
        "now 1,600,000)",
    ]


def test_without_as_the_only_finance_user_records(write, finance, customer):
    run(write(HEADER + f"{customer.pk},2025,3,10\n"))
    assert Usage.objects.count() == 1


def test_without_as_several_finance_users_must_be_chosen(write, finance, customer):
    UserFactory(name="fred", role=Role.FINANCE)
    message = refused(write(HEADER + f"{customer.pk},2025,3,10\n"))
    assert "several Finance users (fiona, fred); choose one with --as NAME" in message


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nobody", "No user is named 'nobody'."),
        ("sam", "sam is a Sales user; only Finance may record usage."),
    ],
)
def test_as_must_name_a_finance_user(write, sales, customer, name, message):
    assert message in refused(write(HEADER + f"{customer.pk},2025,3,10\n"), "--as", name)


def test_no_finance_user_at_all(write, sales, customer):
    assert "no active Finance user" in refused(write(HEADER + f"{customer.pk},2025,3,10\n"))


def test_it_reads_stdin(finance, customer, monkeypatch):
    stdin = io.TextIOWrapper(io.BytesIO(f"{HEADER}{customer.pk},2025,3,10\n".encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert "Recorded 1 row" in run("-", "--as", "fiona")
    assert Usage.objects.get().api_usage == 10
    assert UsageRevision.objects.get().file_name == "stdin"
