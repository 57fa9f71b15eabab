"""`manage.py import_usage FILE.csv [--as NAME]`: the page's CSV upload, from a shell."""

import io
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Role
from billing_site.core import periods
from tests.factories import CustomerFactory, UsageFactory, UserFactory, make_bill
from usage.csv_import import MAX_BYTES
from usage.models import Usage

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


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_usage", *args, stdout=out)
    return out.getvalue()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert not Usage.objects.exists()
    return str(caught.value)


def test_it_records_the_file_and_prints_a_summary(write, finance, customer):
    globex = CustomerFactory(name="Globex")
    UsageFactory(customer=customer, year=2025, month=3, api_usage=1)
    path = write(HEADER + f"{customer.pk},2025,3,10\n{globex.pk},2025,3,20\n")
    assert run(path, "--as", "fiona").splitlines() == ["Recorded 2 months: 1 new, 1 updated."]
    assert sorted(Usage.objects.values_list("api_usage", flat=True)) == [10, 20]


def test_customers_may_be_named(write, finance, customer):
    run(write("customer,year,month,api_usage\nAcme Corp,2025,3,10\n"), "--as", "fiona")
    assert Usage.objects.get().customer == customer


def test_bad_rows_are_listed_by_line_and_nothing_is_written(write, finance, customer):
    path = write(
        HEADER + f"{customer.pk},2025,3,10\n{customer.pk},2025,13,-1\n\n{customer.pk},2025,3,5\n"
    )
    message = refused(path, "--as", "fiona")
    assert message.splitlines() == [
        f"{path}: nothing was recorded; 2 lines to fix:",
        "line 3, month: Enter a month from 1 to 12.",
        "line 3, api_usage: Usage must be between 0 and 9223372036854775807.",
        "line 5, month: Line 2 already sets this customer-month; keep one.",
    ]


def test_a_file_with_unreadable_lines_still_lists_every_other_problem(write, finance, customer):
    # The page's path: the readable rows are checked too, and a duplicate names its first line.
    path = write(
        "customer,year,month,api_usage\n"
        "Nobody,2025,3,1\n"
        "Acme Corp,2025,3,250.000\n"
        "Acme Corp,2025,4,1\n"
        "Acme Corp,2025,4,2\n"
    )
    assert refused(path, "--as", "fiona").splitlines() == [
        f"{path}: nothing was recorded; 3 lines to fix:",
        "line 2, customer: No customer is named “Nobody”.",
        "line 3, api_usage: “250.000” is not a whole number: type digits only.",
        "line 5, month: Line 4 already sets this customer-month; keep one.",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"1,2025,3,5\n", "The first line must be the header"),
        (b"customer_id,year,api_usage\n", "Wrong columns: missing month."),
        ("customer_id,year,month,api_usage\n1,2025,3,5 \xe9\n".encode("cp1252"), "not UTF-8"),
        (HEADER.encode() + b"1,2025,3,1\n" * (MAX_BYTES // 10), "The file is over 2 MB"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused(write, finance, customer, content, message):
    assert message in refused(write(content), "--as", "fiona")


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
    assert "Recorded 1 month" in run("-", "--as", "fiona")
    assert Usage.objects.get().api_usage == 10
