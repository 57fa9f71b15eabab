"""usage.csv_reader and usage.csv_import: a file into rows with their lines, the file's own rules
as structured errors, and its preview through the service with every problem listed in one pass.
"""

import io

import pytest

from billing_site.core import periods
from billing_site.core.errors import DomainError
from tests.factories import CustomerFactory, UsageFactory
from usage.csv_import import (
    CsvFileError,
    CsvLineError,
    CsvRowsError,
    parse_usage_csv,
    usage_preview_csv,
)
from usage.csv_reader import UsageCsv
from usage.models import Usage, UsageUpload

pytestmark = pytest.mark.django_db

HEADER = "customer_id,year,month,api_usage\n"


def refusal(content: str, user) -> list[tuple[int, str, str, str]]:
    """(line, column, code, message) of each problem of the file, as the preview refused it."""
    with pytest.raises(CsvRowsError) as caught:
        usage_preview_csv(parsed=parse_usage_csv(content.encode()), file_name="u.csv", user=user)
    assert not Usage.objects.exists() and not UsageUpload.objects.exists()
    return [(e.line, e.field, e.code, e.message) for e in caught.value.line_errors]


# --- reading -------------------------------------------------------------------------------------


def test_rows_are_typed_and_keep_their_line(customer):
    parsed = parse_usage_csv(
        f"{HEADER}{customer.pk},2025,3,1500\n\n{customer.pk},2025,04,7\n".encode()
    )
    assert parsed.rows == [(2, customer.pk, 2025, 3, 1500), (4, customer.pk, 2025, 4, 7)]
    assert parsed.errors == [] and not parsed.by_name


def test_names_are_read_as_ids(customer):
    globex = CustomerFactory(name="Globex, Inc.")
    parsed = parse_usage_csv(
        b'customer,year,month,api_usage\nAcme Corp,2025,3,1\n"Globex, Inc.",2025,3,2\n'
    )
    assert parsed.by_name
    assert parsed.rows == [(2, customer.pk, 2025, 3, 1), (3, globex.pk, 2025, 3, 2)]


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
        "Acme Corp,2025,13,1\n"  # 8: readable; its range is the batch's to check
    )
    parsed = parse_usage_csv(content.encode())
    assert [row[0] for row in parsed.rows] == [2, 8]
    assert [(e.line, e.field, e.code) for e in parsed.errors] == [
        (3, "", "wrong_cell_count"),
        (4, "customer", "unknown_name"),
        (5, "customer", "ambiguous_name"),
        (6, "month", "out_of_range"),
        (6, "api_usage", "not_a_number"),
        (7, "customer", "required"),
    ]


def test_a_short_line_is_quoted_as_it_reads(customer):
    parsed = parse_usage_csv(f"{HEADER}{customer.pk};2025\n".encode())
    assert parsed.errors == [
        CsvLineError(
            2,
            "",
            "wrong_cell_count",
            f"Expected 4 values, found 1: “{customer.pk};2025”.",
            f"{customer.pk};2025",
        )
    ]


@pytest.mark.parametrize(
    ("content", "code", "line"),
    [
        (b"x" * (5 * 1024 * 1024 + 1), "too_big", None),
        (b" \n", "empty", None),
        (b"\xff\xfe", "not_utf8", 1),
        (HEADER.encode() + b"1,2025,3,1\n" * 3 + b"1,2025,3,\xe9\n", "not_utf8", 5),
        (HEADER.encode() + b"1,2025,3,1\x00\n", "nul", 2),
        (b"1,2025,3,1\n", "no_header", None),
        (b"customer_id,year\n", "wrong_columns", None),
        (HEADER.encode(), "no_rows", None),
        (HEADER.encode() + b'1,2025,3,"1\n', "bad_quoting", 2),
        (HEADER.encode() + b"1,2025,3,1\n" * 50_001, "too_many_rows", None),
    ],
)
def test_a_file_that_cannot_be_read_says_why_as_a_code(content, code, line):
    with pytest.raises(CsvFileError) as caught:
        parse_usage_csv(content)
    assert (caught.value.code, caught.value.line) == (code, line)


def test_a_bad_byte_deep_in_a_long_file_is_found_on_its_line():
    # The reader decodes the file in chunks as it streams: the line is counted, not guessed.
    content = HEADER.encode() + b"1,2025,3,1\r\n" * 20_000 + b"1,2025,3,caf\xe9\r\n"
    reader = UsageCsv(io.BytesIO(content))
    with pytest.raises(CsvFileError) as caught:
        list(reader.rows())
    assert (caught.value.code, caught.value.line) == ("not_utf8", 20_002)


def test_the_reader_streams_a_file_without_a_size_limit(customer):
    # No limit of its own (the page sets one): import_usage reads files of millions of rows.
    lines = HEADER.encode() + f"{customer.pk},2025,3,1\n".encode() * 60_000
    reader = UsageCsv(io.BytesIO(lines))
    assert sum(1 for _ in reader.rows()) == 60_000 == reader.count


# --- previewing ----------------------------------------------------------------------------------


def test_a_good_file_is_previewed_and_nothing_is_recorded(finance, customer):
    globex = CustomerFactory(name="Globex")
    UsageFactory(customer=customer, year=2025, month=3, api_usage=5)
    UsageFactory(customer=globex, year=2025, month=3, api_usage=7)
    content = f"{HEADER}{customer.pk},2025,3,9\n{globex.pk},2025,3,7\n{globex.pk},2025,4,1\n"
    preview = usage_preview_csv(
        parsed=parse_usage_csv(content.encode()), file_name="october.csv", user=finance
    )
    result = preview.result
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert [(c.row, c.customer_name, c.label, c.old, c.new) for c in preview.changes] == [
        (2, "Acme Corp", "March 2025", 5, 9),
        (4, "Globex", "April 2025", None, 1),
    ]
    assert sorted(Usage.objects.values_list("api_usage", flat=True)) == [5, 7]
    upload = UsageUpload.objects.get()
    assert (upload.user, upload.file_name) == (finance, "october.csv")
    assert upload.rows == [
        [2, customer.pk, 2025, 3, 9, 5],
        [3, globex.pk, 2025, 3, 7, 7],
        [4, globex.pk, 2025, 4, 1, None],
    ]


def test_a_duplicate_names_the_line_that_set_the_month_first(finance, customer):
    # Line 3 is not readable, so the rows checked are lines 2, 4, 5 and 6: each error is on its
    # own line and names the first one.
    content = (
        f"{HEADER}{customer.pk},2025,3,1\n{customer.pk},2025\n"
        f"{customer.pk},2025,4,1\n{customer.pk},2025,4,2\n{customer.pk},2025,3,3\n"
    )
    acme = customer.pk
    assert refusal(content, finance) == [
        (3, "", "wrong_cell_count", f"Expected 4 values, found 2: “{acme},2025”."),
        (5, "month", "duplicate", f"Line 4 already sets customer {acme}, 2025-04; keep one."),
        (6, "month", "duplicate", f"Line 2 already sets customer {acme}, 2025-03; keep one."),
    ]


def test_a_duplicate_in_a_readable_file_also_names_lines(finance, customer):
    content = f"{HEADER}{customer.pk},2025,3,1\n\n{customer.pk},2025,3,2\n"
    assert refusal(content, finance) == [
        (
            4,
            "month",
            "duplicate",
            f"Line 2 already sets customer {customer.pk}, 2025-03; keep one.",
        )
    ]


def test_one_upload_lists_the_files_problems_and_the_services_in_one_pass(finance, customer):
    future = periods.next_month(periods.today().year, periods.today().month)
    content = (
        "customer,year,month,api_usage\n"
        "Nobody,2025,3,1\n"  # 2: the file's problem
        f"Acme Corp,{future[0]},{future[1]},1\n"  # 3: the batch's
        "Acme Corp,2025,3,-1\n"  # 4: the schema's
        "Acme Corp,2025,13,1\n"  # 5: the batch's range, in SQL
        "Acme Corp,2025,5,1\n"  # 6: fine, but nothing is written
    )
    assert refusal(content, finance) == [
        (2, "customer", "unknown_name", "No customer is named “Nobody”."),
        (
            3,
            "month",
            "future_month",
            f"{future[0]}-{future[1]:02d} is in the future; usage can be recorded once the "
            "month starts.",
        ),
        (
            4,
            "api_usage",
            "out_of_range",
            "“-1” is out of range: usage must be between 0 and 9223372036854775807.",
        ),
        (5, "month", "out_of_range", "“13” is out of range: enter a month from 1 to 12."),
    ]


def test_an_unknown_id_is_on_the_customer_id_column(finance, customer):
    content = f"{HEADER}x,2025,3,1\n{customer.pk + 50},2025,3,1\n0,2025,3,1\n"
    assert refusal(content, finance) == [
        (2, "customer_id", "not_a_number", "“x” is not a whole number: type digits only."),
        (3, "customer_id", "unknown_customer", f"No customer has id {customer.pk + 50}."),
        (
            4,
            "customer_id",
            "out_of_range",
            "“0” is out of range: enter a customer id from 1 to 9223372036854775807.",
        ),
    ]


@pytest.mark.parametrize("content", [f"{HEADER}1,2025,3,1\n", f"{HEADER}1,2025,3,x\n"])
def test_only_finance_may_preview_a_file(sales, content):
    with pytest.raises(DomainError) as caught:
        usage_preview_csv(parsed=parse_usage_csv(content.encode()), file_name="u", user=sales)
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
