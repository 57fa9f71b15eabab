"""usage.csv_import: a file's bytes into typed rows with their lines, the file's own rules as
structured errors, and recording through the service with every problem listed in one pass."""

import pytest

from billing_site.core import periods
from billing_site.core.errors import DomainError
from tests.factories import CustomerFactory
from usage.csv_import import (
    CsvFileError,
    CsvLineError,
    CsvRowsError,
    parse_usage_csv,
    usage_record_csv,
)
from usage.models import Usage
from usage.services import UsageRow

pytestmark = pytest.mark.django_db

HEADER = "customer_id,year,month,api_usage\n"


def refusal(content: str, user) -> list[tuple[int, str, str, str]]:
    """(line, column, code, message) of each problem of the file, as the service refused it."""
    with pytest.raises(CsvRowsError) as caught:
        usage_record_csv(parsed=parse_usage_csv(content.encode()), user=user)
    assert not Usage.objects.exists()
    return [(e.line, e.field, e.code, e.message) for e in caught.value.line_errors]


# --- reading -------------------------------------------------------------------------------------


def test_rows_are_typed_and_keep_their_line(customer):
    parsed = parse_usage_csv(
        f"{HEADER}{customer.pk},2025,3,1500\n\n{customer.pk},2025,04,7\n".encode()
    )
    assert parsed.rows == [UsageRow(customer.pk, 2025, 3, 1500), UsageRow(customer.pk, 2025, 4, 7)]
    assert parsed.lines == [2, 4]
    assert parsed.errors == [] and not parsed.by_name


def test_names_are_read_as_ids(customer):
    globex = CustomerFactory(name="Globex, Inc.")
    parsed = parse_usage_csv(
        b'customer,year,month,api_usage\nAcme Corp,2025,3,1\n"Globex, Inc.",2025,3,2\n'
    )
    assert parsed.by_name
    assert parsed.rows == [UsageRow(customer.pk, 2025, 3, 1), UsageRow(globex.pk, 2025, 3, 2)]


def test_lines_that_cannot_be_read_are_structured_errors_and_not_rows(customer):
    CustomerFactory(name="Initech")
    CustomerFactory(name="Initech")
    content = (
        "customer,year,month,api_usage\n"
        "Acme Corp,2025,3,1\n"  # 2: fine
        "Acme Corp,2025\n"  # 3
        "acme corp,2025,3,1\n"  # 4
        "Initech,2025,3,1\n"  # 5
        "Acme Corp,2025,13,250.000\n"  # 6
        ",2025,3,1\n"  # 7
    )
    parsed = parse_usage_csv(content.encode())
    assert parsed.lines == [2]
    assert [(e.line, e.field, e.code) for e in parsed.errors] == [
        (3, "", "wrong_cell_count"),
        (4, "customer", "unknown_name"),
        (5, "customer", "ambiguous_name"),
        (6, "month", "out_of_range"),
        (6, "api_usage", "not_a_number"),
        (7, "customer", "required"),
    ]


@pytest.mark.parametrize(
    ("content", "code", "line"),
    [
        (b"x" * (2 * 1024 * 1024 + 1), "too_big", None),
        (b" \n", "empty", None),
        (b"\xff\xfe", "not_utf8", 1),
        (HEADER.encode() + b"1,2025,3,1\x00\n", "nul", 2),
        (b"1,2025,3,1\n", "no_header", None),
        (b"customer_id,year\n", "wrong_columns", None),
        (HEADER.encode(), "no_rows", None),
        (HEADER.encode() + b'1,2025,3,"1\n', "bad_quoting", 2),
        (HEADER.encode() + b"1,2025,3,1\n" * 10_001, "too_many_rows", None),
    ],
)
def test_a_file_that_cannot_be_read_says_why_as_a_code(content, code, line):
    with pytest.raises(CsvFileError) as caught:
        parse_usage_csv(content)
    assert (caught.value.code, caught.value.line) == (code, line)


# --- recording -----------------------------------------------------------------------------------


def test_a_good_file_is_recorded(finance, customer):
    result = usage_record_csv(
        parsed=parse_usage_csv(f"{HEADER}{customer.pk},2025,3,9\n".encode()), user=finance
    )
    assert (result.created, result.updated) == (1, 0)
    assert Usage.objects.get().api_usage == 9


def test_a_duplicate_names_the_line_that_set_the_month_first(finance, customer):
    # Line 3 is not readable, so the rows the service sees are lines 2, 4, 5 and 6: the service's
    # first_row (an index among them) must be turned into the line, not read as one.
    content = (
        f"{HEADER}{customer.pk},2025,3,1\n{customer.pk},2025\n"
        f"{customer.pk},2025,4,1\n{customer.pk},2025,4,2\n{customer.pk},2025,3,3\n"
    )
    assert refusal(content, finance) == [
        (3, "", "wrong_cell_count", "Expected 4 values, found 2."),
        (5, "month", "duplicate", "Line 4 already sets this customer-month; keep one."),
        (6, "month", "duplicate", "Line 2 already sets this customer-month; keep one."),
    ]


def test_a_duplicate_in_a_readable_file_also_names_lines(finance, customer):
    content = f"{HEADER}{customer.pk},2025,3,1\n\n{customer.pk},2025,3,2\n"
    assert refusal(content, finance) == [
        (4, "month", "duplicate", "Line 2 already sets this customer-month; keep one.")
    ]


def test_one_upload_lists_the_files_problems_and_the_services_in_one_pass(finance, customer):
    future = periods.next_month(periods.today().year, periods.today().month)
    content = (
        "customer,year,month,api_usage\n"
        "Nobody,2025,3,1\n"  # 2: the file's problem
        f"Acme Corp,{future[0]},{future[1]},1\n"  # 3: the service's
        "Acme Corp,2025,3,-1\n"  # 4: the schema's
        "Acme Corp,2025,5,1\n"  # 5: fine, but nothing is written
    )
    assert refusal(content, finance) == [
        (2, "customer", "unknown_name", "No customer is named “Nobody”."),
        (
            3,
            "month",
            "future_month",
            "This month is in the future; usage can be recorded once it starts.",
        ),
        (4, "api_usage", "out_of_range", "Usage must be between 0 and 9223372036854775807."),
    ]


def test_an_unknown_id_is_on_the_customer_id_column(finance, customer):
    content = f"{HEADER}x,2025,3,1\n{customer.pk + 50},2025,3,1\n"
    assert refusal(content, finance) == [
        (2, "customer_id", "not_a_number", "“x” is not a whole number: type digits only."),
        (3, "customer_id", "unknown_customer", f"No customer has id {customer.pk + 50}."),
    ]


@pytest.mark.parametrize("content", [f"{HEADER}1,2025,3,1\n", f"{HEADER}1,2025,3,x\n"])
def test_only_finance_may_record_a_file(sales, content):
    with pytest.raises(DomainError) as caught:
        usage_record_csv(parsed=parse_usage_csv(content.encode()), user=sales)
    assert caught.value.kind == "forbidden"
    assert not isinstance(caught.value, CsvRowsError)


def test_line_errors_are_sorted_by_line_then_column():
    errors = CsvRowsError(
        [
            CsvLineError(5, "api_usage", "x", "b"),
            CsvLineError(5, "customer", "x", "a"),
            CsvLineError(2, "month", "x", "c"),
            CsvLineError(5, "", "x", "d"),
        ]
    ).line_errors
    assert [(e.line, e.field) for e in errors] == [
        (2, "month"),
        (5, ""),
        (5, "customer"),
        (5, "api_usage"),
    ]
