"""/usage/record: Finance records one customer-month by hand, or previews a CSV file of them and
confirms it. The preview and Confirm rules are in test_views_preview.py."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from billing_site.core import periods
from bills.models import Bill, Status
from tests.factories import MONTH, YEAR, CustomerFactory, UsageFactory, make_bill
from usage.csv_import import MAX_BYTES, MAX_ROWS
from usage.models import Usage

pytestmark = pytest.mark.django_db

URL = "/usage/record"
HEADER = "customer_id,year,month,api_usage\n"


@pytest.fixture
def fiona(page_as, finance):
    return page_as(finance)


def upload(client, content: bytes | str, name: str = "usage.csv", **extra):
    """Post the file: the answer is its preview (or its problems)."""
    if isinstance(content, str):
        content = content.encode()
    file = SimpleUploadedFile(name, content, content_type="text/csv")
    return client.post(URL, {"form": "upload", "upload-file": file}, **extra)


def confirm(client, preview, **extra):
    """Press the preview's Confirm button."""
    token = re.search(r'name="upload" value="([^"]+)"', preview.content.decode())[1]
    return client.post(URL, {"form": "confirm", "upload": token}, **extra)


def record_file(client, content: bytes | str, name: str = "usage.csv"):
    """Upload the file and confirm its preview."""
    preview = upload(client, content, name)
    assert preview.status_code == 200
    return confirm(client, preview)


def entry(client, who, **overrides):
    data = {
        "form": "entry",
        "entry-customer": who.pk,
        "entry-year": YEAR,
        "entry-month": MONTH,
        "entry-api_usage": 1_250_000,
    }
    return client.post(URL, data | {f"entry-{k}": v for k, v in overrides.items()})


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def plain(response) -> str:
    """The page's words without its tags."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def row_errors(response) -> list[tuple[str, str, str]]:
    """(line, column, problem) of each row of the error table."""
    rows = re.findall(
        r'<td data-label="Line" class="num">(\d+)</td>\s*<td data-label="Column">(.*?)</td>\s*'
        r'(?:<td data-label="Value"[^>]*>.*?</td>\s*)?<td data-label="Problem">(.*?)</td>',
        response.content.decode(),
        re.S,
    )
    return [(line, re.sub(r"<[^>]+>", "", col), problem) for line, col, problem in rows]


# --- access --------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_welcome(client, customer):
    assert client.get(URL)["Location"] == "/welcome?next=%2Fusage%2Frecord"
    response = entry(client, customer)
    assert response.status_code == 302 and response["Location"] == "/welcome"
    assert not Usage.objects.exists()


def test_finance_gets_both_forms(fiona, customer):
    globex = CustomerFactory(name="Globex")
    response = fiona.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith("<!doctype html>") and "<h1>Record usage</h1>" in html
    for label in ("Customer", "Year", "Month", "API usage", "CSV file"):
        assert f">{label}</label>" in html, label
    # A box that suggests customers as you type, starting with the first ones by name.
    box = re.search(r'<input type="text" name="entry-customer"[^>]*>', html).group(0)
    assert 'list="id_entry-customer-options"' in box and 'hx-get="/customers/suggest' in box
    suggested = re.search(r'<datalist id="id_entry-customer-options">.*?</datalist>', html, re.S)
    assert re.findall(r'<option value="([^"]+)">', suggested.group(0)) == [
        f"Acme Corp (#{customer.pk})",
        f"Globex (#{globex.pk})",
    ]
    assert 'enctype="multipart/form-data"' in html and 'accept=".csv,text/csv"' in html
    assert 'href="/usage/record/template.csv"' in html
    assert "customer_id,year,month,api_usage" in html
    year, month = periods.last_ended_month()
    assert f'name="entry-year" value="{year}"' in html
    assert f'<option value="{month}" selected>' in html


@pytest.mark.parametrize("role", ["sales", "csm"])
def test_other_roles_get_the_403_page(page_as, users, role, customer):
    client = page_as(users[role])
    response = client.get(URL)
    assert response.status_code == 403
    assert "Your role may not do that" in response.content.decode()
    assert "may not record usage" in response.content.decode()
    assert entry(client, customer).status_code == 403
    assert upload(client, f"{HEADER}{customer.pk},2025,3,5\n").status_code == 403
    assert not Usage.objects.exists()


def test_other_methods_are_refused(fiona):
    assert fiona.put(URL).status_code == 405
    assert fiona.delete(URL).status_code == 405
    assert fiona.post("/usage/record/template.csv").status_code == 405


def test_the_page_runs_a_fixed_number_of_queries(fiona):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert fiona.get(URL).status_code == 200
        return len(queries)

    CustomerFactory.create_batch(2)
    few = count()
    CustomerFactory.create_batch(40)
    assert count() == few


def test_csrf_is_enforced(finance, customer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(finance)
    assert entry(browser, customer).status_code == 403
    assert not Usage.objects.exists()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text(browser.get(URL)))[1]
    file = SimpleUploadedFile("u.csv", f"{HEADER}{customer.pk},2025,3,7\n".encode())
    data = {"csrfmiddlewaretoken": token, "form": "upload", "upload-file": file}
    preview = browser.post(URL, data)
    assert preview.status_code == 200 and not Usage.objects.exists()
    upload_id = re.search(r'name="upload" value="([^"]+)"', text(preview))[1]
    assert browser.post(URL, {"form": "confirm", "upload": upload_id}).status_code == 403
    data = {"csrfmiddlewaretoken": token, "form": "confirm", "upload": upload_id}
    assert browser.post(URL, data).status_code == 200
    assert Usage.objects.get().api_usage == 7


def test_a_post_without_a_form_name_changes_nothing(fiona):
    response = fiona.post(URL, {"entry-api_usage": "5"})
    assert response.status_code == 200
    assert "Choose a form to send" in response.content.decode()
    assert not Usage.objects.exists()


# --- one month -----------------------------------------------------------------------------


def test_finance_records_one_month(fiona, customer):
    response = entry(fiona, customer)
    assert response.status_code == 200
    html = text(response)
    assert "Recorded 1 row, 1 changed: 1 new, 0 updated, 0 unchanged." in html
    assert "flash-success" in html and 'role="status"' in html
    assert "1 customer in March 2025" in plain(response)
    assert Usage.objects.get(customer=customer, year=YEAR, month=MONTH).api_usage == 1_250_000
    # The next entry is probably the same month: the period stays, the rest is cleared.
    assert 'name="entry-year" value="2025"' in html and '<option value="3" selected>' in html
    assert 'name="entry-api_usage" inputmode' in html and 'value="1250000"' not in html


def test_recording_a_month_again_replaces_it_once_confirmed(fiona, customer):
    UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=10)
    html = text(entry(fiona, customer, api_usage=2**63 - 1, confirm_old=10))
    assert "Recorded 1 row, 1 changed: 0 new, 1 updated, 0 unchanged." in html
    assert "Acme Corp, Mar 2025: 10 → 9,223,372,036,854,775,807 API calls." in html
    assert Usage.objects.get().api_usage == 2**63 - 1


def test_recording_the_same_total_again_says_nothing_changed(fiona, customer):
    UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=1_250_000)
    html = text(entry(fiona, customer, api_usage=1_250_000))
    assert "Recorded 1 row, 0 changed: 0 new, 0 updated, 1 unchanged." in html


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"api_usage": -1},
            "api_usage",
            "“-1” is out of range: usage must be between 0 and 9223372036854775807.",
        ),
        (
            {"api_usage": 2**63},
            "api_usage",
            "“9223372036854775808” is out of range: usage must be between 0 and "
            "9223372036854775807.",
        ),
        ({"api_usage": "12k"}, "api_usage", "“12k” is not a whole number: type digits only."),
        ({"api_usage": ""}, "api_usage", "This field is required."),
        ({"year": 1999}, "year", "“1999” is out of range: enter a year between 2000 and 2999."),
        ({"month": 13}, "month", "Select a valid choice. 13 is not one of the available choices."),
        ({"customer": 999_999}, "customer", "There is no customer #999999."),
        ({"customer": 2**70}, "customer", f"There is no customer #{2**70}."),
        ({"customer": "Nobody"}, "customer", "No customer is named “Nobody”"),
        ({"customer": ""}, "customer", "This field is required."),
    ],
)
def test_a_bad_entry_is_shown_on_its_field(fiona, customer, overrides, field, message):
    response = entry(fiona, customer, **overrides)
    assert response.status_code == 200
    html = text(response)
    block = re.search(rf'<div class="field field-{field} has-error">.*?</div>', html).group(0)
    assert message in block
    assert "Recorded" not in html and not Usage.objects.exists()


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("api_usage", "250.000"),  # 250 thousand, European style: an IntegerField reads 250
        ("api_usage", "1_000"),  # int() reads 1000
        ("api_usage", "１２"),  # fullwidth digits: int() reads 12
        ("api_usage", "+5"),
        ("api_usage", "1,250,000"),
        ("api_usage", "1e6"),
        ("api_usage", "true"),
        ("year", "2025.0"),
        ("year", "2025.000"),
        ("year", "２０２５"),
    ],
)
def test_a_count_must_be_typed_as_digits_and_the_refusal_shows_what_was_typed(
    fiona, customer, field, typed
):
    html = text(entry(fiona, customer, **{field: typed}))
    block = re.search(
        rf'<div class="field field-{field} has-error">.*?</div>\s*</div>', html
    ).group(0)
    assert f"“{typed}” is not a whole number: type digits only." in block
    assert f'value="{typed}"' in html  # the field keeps what was typed, to correct it
    assert "Recorded" not in html and not Usage.objects.exists()


def test_what_was_typed_is_shown_escaped_and_shortened(fiona, customer):
    html = text(entry(fiona, customer, api_usage="<b>" + "9" * 40))
    assert "“&lt;b&gt;99999999999999999999999999…” is not a whole number" in html
    assert "<b>9" not in html
    assert not Usage.objects.exists()


def test_digits_with_surrounding_spaces_are_recorded(fiona, customer):
    assert "Recorded 1 row" in text(entry(fiona, customer, api_usage=" 1250000 ", year=" 2025"))
    assert Usage.objects.get().api_usage == 1_250_000


def test_a_future_month_is_refused_by_the_service(fiona, customer):
    today = periods.today()
    year, month = periods.next_month(today.year, today.month)
    html = text(entry(fiona, customer, year=year, month=month))
    assert f"{year}-{month:02d} is in the future" in html and "field-month has-error" in html
    assert not Usage.objects.exists()


# --- CSV -----------------------------------------------------------------------------------


def test_a_csv_file_records_every_row(fiona, customer):
    globex = CustomerFactory(name="Globex")
    UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=1)
    csv = (
        "customer_id,year,month,api_usage\n"
        f"{customer.pk},2025,3,1500000\n"
        f"{globex.pk},2025,3,20\n"
        f"{globex.pk},2025,4,30\n"
    )
    response = record_file(fiona, csv)
    assert response.status_code == 200
    html = text(response)
    assert "Recorded 3 rows, 3 changed: 2 new, 1 updated, 0 unchanged." in html
    assert "2 customers in March 2025" in plain(response)
    assert "1 customer in April 2025" in plain(response)
    assert sorted(Usage.objects.values_list("customer__name", "month", "api_usage")) == [
        ("Acme Corp", 3, 1_500_000),
        ("Globex", 3, 20),
        ("Globex", 4, 30),
    ]


def test_several_bad_rows_are_each_reported_by_line_and_nothing_is_written(fiona, customer):
    csv = (
        "customer_id,year,month,api_usage\n"
        f"{customer.pk},2025,3,100\n"  # line 2: fine
        f"{customer.pk},2025,4,-5\n"  # line 3
        "\n"  # line 4: blank, skipped
        f"999999,2025,13,\n"  # line 5: three problems
        f"{customer.pk},2025,3,200\n"  # line 6: line 2 already sets March
        f"{customer.pk},2025\n"  # line 7: short
        f'"{customer.pk}",2025,"5","1,000"\n'  # line 8
    )
    response = upload(fiona, csv)
    assert response.status_code == 200
    acme = customer.pk
    assert row_errors(response) == [
        (
            "3",
            "api_usage",
            "“-5” is out of range: usage must be between 0 and 9223372036854775807.",
        ),
        ("5", "month", "“13” is out of range: enter a month from 1 to 12."),
        ("5", "api_usage", "This field is required."),
        ("6", "month", f"Line 2 already sets customer {acme}, 2025-03; keep one."),
        ("7", "the row", f"Expected 4 values, found 2: “{acme},2025”."),
        ("8", "api_usage", "“1,000” is not a whole number: type digits only."),
    ]
    html = text(response)
    assert "Nothing was recorded" in html and "5 lines of the file have problems." in html
    assert "Recorded" not in html.replace("Nothing was recorded", "")
    assert not Usage.objects.exists()


def test_an_unknown_customer_id_is_reported(fiona, customer):
    response = upload(fiona, f"customer_id,year,month,api_usage\n{customer.pk + 99},2025,3,1\n")
    assert row_errors(response) == [("2", "customer_id", f"No customer has id {customer.pk + 99}.")]


def test_customers_may_be_named_instead_of_numbered(fiona, customer):
    CustomerFactory(name="Globex, Inc.")
    csv = 'customer,year,month,api_usage\nAcme Corp,2025,3,10\n"Globex, Inc.",2025,3,20\n'
    html = text(record_file(fiona, csv))
    assert "Recorded 2 rows, 2 changed: 2 new, 0 updated, 0 unchanged." in html
    assert dict(Usage.objects.values_list("customer__name", "api_usage")) == {
        "Acme Corp": 10,
        "Globex, Inc.": 20,
    }


def test_a_name_must_match_exactly_one_customer(fiona, customer):
    twins = [CustomerFactory(name="Initech"), CustomerFactory(name="Initech")]
    csv = (
        "customer,year,month,api_usage\n"
        "acme corp,2025,3,10\n"
        "Initech,2025,3,10\n"
        "Nobody,2025,3,-1\n"
        ",2025,3,1\n"
        "Acme Corp,2025,13,1\n"
    )
    response = upload(fiona, csv)
    ids = ", ".join(str(c.pk) for c in twins)
    assert row_errors(response) == [
        ("2", "customer", "No customer is named “acme corp”; did you mean “Acme Corp”?"),
        ("3", "customer", f"Several customers are named “Initech” (ids {ids}); use customer_id."),
        ("4", "customer", "No customer is named “Nobody”."),
        ("5", "customer", "This field is required."),
        ("6", "month", "“13” is out of range: enter a month from 1 to 12."),
    ]
    assert not Usage.objects.exists()


def test_one_unreadable_row_keeps_the_good_rows_from_being_written(fiona, customer):
    csv = "customer,year,month,api_usage\nAcme Corp,2025,3,10\nNobody,2025,3,10\n"
    assert row_errors(upload(fiona, csv)) == [("3", "customer", "No customer is named “Nobody”.")]
    assert not Usage.objects.exists()


def test_an_unreadable_row_does_not_hide_the_other_rows_problems(fiona, customer):
    # The readable rows are still checked (unknown customer, a month set twice) in the same pass.
    csv = (
        "customer_id,year,month,api_usage\n"
        f"{customer.pk},2025\n"
        f"{customer.pk},2025,3,10\n"
        f"{customer.pk + 99},2025,3,10\n"
        f"{customer.pk},2025,3,11\n"
    )
    assert row_errors(upload(fiona, csv)) == [
        ("2", "the row", f"Expected 4 values, found 2: “{customer.pk},2025”."),
        ("4", "customer_id", f"No customer has id {customer.pk + 99}."),
        ("5", "month", f"Line 3 already sets customer {customer.pk}, 2025-03; keep one."),
    ]
    assert not Usage.objects.exists()


def test_spreadsheet_habits_are_accepted(fiona, customer):
    # Excel's "CSV UTF-8": a byte order mark, CRLF, titled columns, semicolons in some locales,
    # trailing empty cells, columns in another order.
    csv = f"\ufeffAPI usage;Month;Year;Customer ID;\r\n7;3;2025;{customer.pk};\r\n;;;;\r\n"
    html = text(record_file(fiona, csv.encode("utf-8")))
    assert "Recorded 1 row, 1 changed: 1 new, 0 updated, 0 unchanged." in html
    assert Usage.objects.get().api_usage == 7


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"\n \n", "The file is empty."),
        (b"customer_id,year,month,api_usage\n", "The file has a header but no rows of usage."),
        (
            b"1,2025,3,100\n",
            "The first line must be the header customer_id,year,month,api_usage (or "
            "customer,year,month,api_usage); it reads “1,2025,3,100”.",
        ),
        (
            b"customer_id,year,month,usage,note\n1,2025,3,1,x\n",
            "Wrong columns: unknown columns “usage”, “note”; missing api_usage.",
        ),
        (
            b"customer_id,customer,year,month,month,api_usage\n",
            "Wrong columns: month more than once; both customer_id and customer (give one).",
        ),
        (b"year,month,api_usage\n2025,3,1\n", "Wrong columns: missing customer_id."),
        (
            "customer_id,year,month,api_usage\n1,2025,3,café\n".encode("latin-1"),
            "The file is not UTF-8 text (line 2 has a byte that is not UTF-8). "
            "In Excel, save it as “CSV UTF-8”.",
        ),
        (
            b"customer_id,year,month,api_usage\n1,2025,3,1\x00\n",
            "Line 2 has a NUL character: this is not a CSV text file. Save it as “CSV UTF-8”.",
        ),
        (
            b'customer_id,year,month,api_usage\n1,2025,3,"1\n',
            "could not be read as CSV",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_a_form_error(fiona, customer, content, message):
    response = upload(fiona, content)
    assert response.status_code == 200
    html = text(response)
    block = re.search(r'<div class="field field-file has-error">.*?</div>', html).group(0)
    assert message in block
    assert not Usage.objects.exists()


def test_a_file_over_5_mb_is_refused_unread_and_sent_to_the_command(fiona, customer):
    body = f"{customer.pk},2025,3,1\n".encode() * (MAX_BYTES // 10)
    content = b"customer_id,year,month,api_usage\n" + body
    assert len(content) > MAX_BYTES
    html = text(upload(fiona, content))
    assert (
        "the page takes at most 5 MB (50,000 rows). Split it, or record it from the shell with "
        "manage.py import_usage." in html
    )
    assert "has-error" in html and not Usage.objects.exists()


def test_a_file_over_50000_rows_is_refused_and_sent_to_the_command(fiona):
    customers = CustomerFactory.create_batch(2)
    rows = "".join(f"{customers[i % 2].pk},2025,3,{i}\n" for i in range(MAX_ROWS + 1))
    html = text(upload(fiona, "customer_id,year,month,api_usage\n" + rows))
    assert (
        "The file has more than 50,000 rows; split it, or record it from the shell with "
        "manage.py import_usage." in html
    )
    assert not Usage.objects.exists()


def test_the_page_points_big_files_to_the_command(fiona):
    assert "More than 50,000 rows? Record the file from the shell" in plain(fiona.get(URL))


def test_a_missing_file_is_a_form_error(fiona):
    html = text(fiona.post(URL, {"form": "upload"}))
    assert "field-file has-error" in html and "This field is required." in html


def test_a_file_takes_a_fixed_number_of_queries_to_preview_and_to_confirm(fiona):
    def run(year: int, n: int) -> tuple[int, int]:
        customers = CustomerFactory.create_batch(n)
        csv = "customer,year,month,api_usage\n" + "".join(
            f"{c.name},{year},3,{i}\n" for i, c in enumerate(customers)
        )
        with CaptureQueriesContext(connection) as previewing:
            preview = upload(fiona, csv)
        with CaptureQueriesContext(connection) as confirming:
            assert "Recorded" in text(confirm(fiona, preview))
        return len(previewing), len(confirming)

    assert run(2024, 3) == run(2025, 60)


# --- stale bills ---------------------------------------------------------------------------


@pytest.fixture
def billed(customer, finance):
    """Last month's bills: Acme's draft, Globex's approved one, Initech's sent one."""
    year, month = periods.last_ended_month()
    acme = make_bill(customer=customer, finance=finance, api_usage=1_500_000)
    globex = make_bill(customer=CustomerFactory(name="Globex"), finance=finance)
    Bill.objects.filter(pk=globex.pk).update(status=Status.APPROVED)
    initech = make_bill(customer=CustomerFactory(name="Initech"), finance=finance)
    Bill.objects.filter(pk=initech.pk).update(status=Status.SENT)
    return {"year": year, "month": month, "acme": acme, "globex": globex, "initech": initech}


def test_recording_over_computed_bills_says_which_to_recompute(fiona, billed):
    y, m = billed["year"], billed["month"]
    acme, globex, initech = billed["acme"], billed["globex"], billed["initech"]
    csv = (
        "customer_id,year,month,api_usage\n"
        f"{acme.customer_id},{y},{m},1800000\n"
        f"{globex.customer_id},{y},{m},1500000\n"  # the same as its bill: not stale
        f"{initech.customer_id},{y},{m},9\n"  # sent: history, not recomputed
    )
    html = text(record_file(fiona, csv))
    assert "Recorded 3 rows, 2 changed: 0 new, 2 updated, 1 unchanged." in html
    assert "1 bill was computed from older usage; recompute it from the bill page." in html
    hint = re.search(r'<div class="alert alert-warn stale-bills".*?</div>', html).group(0)
    assert f'href="/bills/{acme.pk}"' in hint and "1,500,000" in hint and "1,800,000" in hint
    assert f"/bills/{globex.pk}" not in hint and f"/bills/{initech.pk}" not in hint


def test_a_changed_total_flags_exactly_the_bills_not_yet_sent(fiona, finance):
    # "Not yet sent" has one definition (bills.models.UNSENT_STATUSES); this writes out what it
    # must mean, so a copy or an edit that drifts from it is caught here.
    year, month = periods.last_ended_month()
    expected = {"Draft Co": "draft", "Approved Co": "approved", "Rejected Co": "rejected"}
    bills = {}
    for status in ("draft", "approved", "rejected", "sent", "void"):
        bill = make_bill(
            customer=CustomerFactory(name=f"{status.title()} Co"),
            finance=finance,
            api_usage=1_500_000,
        )
        Bill.objects.filter(pk=bill.pk).update(status=status)
        bills[bill.pk] = bill.customer.name
    csv = "customer,year,month,api_usage\n" + "".join(
        f"{name},{year},{month},1800000\n" for name in bills.values()
    )
    html = text(record_file(fiona, csv))
    assert "Recorded 5 rows, 5 changed: 0 new, 5 updated, 0 unchanged." in html
    hint = re.search(r'<div class="alert alert-warn stale-bills".*?</div>', html).group(0)
    flagged = {
        bills[int(pk)]: status
        for pk, status in re.findall(r'href="/bills/(\d+)">.*?<span class="muted">\((\w+);', hint)
    }
    assert flagged == expected
    assert "3 bills were computed from older usage; recompute them from the bill page." in hint


def test_a_changed_single_entry_also_gets_the_hint(fiona, billed):
    bill = billed["globex"]
    html = text(
        entry(
            fiona,
            bill.customer,
            year=bill.year,
            month=bill.month,
            api_usage=2_000_000,
            confirm_old=1_500_000,
        )
    )
    assert "1 bill was computed from older usage" in html
    assert f'href="/bills/{bill.pk}"' in html


def test_several_stale_bills_are_listed_in_a_fixed_number_of_queries(fiona, finance):
    year, month = periods.last_ended_month()

    def run(n: int) -> tuple[int, str]:
        bills = [make_bill(finance=finance, api_usage=2_000_000) for _ in range(n)]
        csv = "customer_id,year,month,api_usage\n" + "".join(
            f"{b.customer_id},{year},{month},3000000\n" for b in bills
        )
        preview = upload(fiona, csv)
        with CaptureQueriesContext(connection) as queries:
            html = text(confirm(fiona, preview))
        return len(queries), html

    few, html = run(2)
    assert "2 bills were computed from older usage; recompute them from the bill page." in html
    many, html = run(12)
    assert "12 bills were computed from older usage" in html
    assert few == many


def test_no_hint_when_nothing_was_billed(fiona, customer):
    assert "older usage" not in text(entry(fiona, customer))


# --- the template --------------------------------------------------------------------------


def test_the_template_is_a_csv_that_changes_nothing_when_uploaded(fiona, customer):
    year, month = periods.last_ended_month()
    UsageFactory(customer=customer, year=year, month=month, api_usage=42)
    CustomerFactory(name="Globex")
    response = fiona.get("/usage/record/template.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="usage-template.csv"' in response["Content-Disposition"]
    lines = response.content.decode().splitlines()
    assert lines[0] == "customer_id,year,month,api_usage"
    assert lines[1] == f"{customer.pk},{year},{month},42"
    # Globex has no usage: its blank total is refused rather than set to zero.
    assert row_errors(upload(fiona, response.content)) == [
        ("3", "api_usage", "This field is required.")
    ]
    assert list(Usage.objects.values_list("api_usage", flat=True)) == [42]


def test_the_template_needs_a_login(client):
    assert client.get("/usage/record/template.csv").status_code == 302


@pytest.mark.parametrize("who, shown", [("finance", True), ("sales", False), ("csm", False)])
def test_only_finance_sees_record_usage_in_the_navigation(client, users, who, shown):
    client.force_login(users[who])
    page = client.get("/dashboard").content.decode()
    assert ('href="/usage/record"' in page) is shown
