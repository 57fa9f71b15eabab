"""/usage/record: a CSV file is previewed (nothing written), then confirmed: exactly what was
previewed is recorded, once, and only if the usage did not change since the preview."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing_site.core import periods
from bills.models import Bill, Status
from tests.factories import CustomerFactory, UsageFactory, UserFactory, make_bill
from usage.models import Usage, UsageRevision, UsageSource, UsageUpload
from usage.services import usage_record

pytestmark = pytest.mark.django_db

URL = "/usage/record"
HEADER = "customer_id,year,month,api_usage\n"


@pytest.fixture
def fiona(page_as, finance):
    return page_as(finance)


def upload(client, content: str, name: str = "october.csv"):
    file = SimpleUploadedFile(name, content.encode(), content_type="text/csv")
    return client.post(URL, {"form": "upload", "upload-file": file})


def token(response) -> str:
    return re.search(r'name="upload" value="([^"]+)"', response.content.decode())[1]


def confirm(client, upload_id: str):
    return client.post(URL, {"form": "confirm", "upload": upload_id})


def plain(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def table(response, css: str) -> list[list[str]]:
    """The cells of each body row of the table with class `css`."""
    html = response.content.decode()
    body = re.search(rf'<table class="[^"]*{css}[^"]*".*?<tbody>(.*?)</tbody>', html, re.S)[1]
    return [
        [
            re.sub(r"<[^>]+>|\s+", " ", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


@pytest.fixture
def world(customer, finance):
    """Acme has March recorded, Globex has March and a draft bill for last month."""
    year, month = periods.last_ended_month()
    globex = CustomerFactory(name="Globex")
    UsageFactory(customer=customer, year=2025, month=3, api_usage=900_000)
    UsageFactory(customer=globex, year=2025, month=3, api_usage=50)
    bill = make_bill(customer=globex, finance=finance, api_usage=1_500_000)
    return {"acme": customer, "globex": globex, "bill": bill, "year": year, "month": month}


def file_of(world) -> str:
    acme, globex = world["acme"].pk, world["globex"].pk
    y, m = world["year"], world["month"]
    return (
        f"{HEADER}{acme},2025,3,1250000\n"  # 2: changed
        f"{globex},2025,3,50\n"  # 3: unchanged
        f"{acme},2025,4,7\n"  # 4: new
        f"{globex},{y},{m},1800000\n"  # 5: changed, its draft bill will be flagged
    )


def test_the_preview_shows_what_would_change_and_writes_nothing(fiona, world):
    before = sorted(Usage.objects.values_list("customer__name", "year", "month", "api_usage"))
    response = upload(fiona, file_of(world))
    assert response.status_code == 200
    text = plain(response)
    assert "Preview of october.csv" in text
    assert (
        "Nothing is recorded yet. 4 rows, 3 to change: 1 new month, 2 changed, 1 unchanged." in text
    )
    y, m = world["year"], world["month"]
    assert table(response, "preview-new") == [["4", "Acme Corp", "April 2025", "7"]]
    assert table(response, "preview-changed") == [
        ["2", "Acme Corp", "March 2025", "900,000", "1,250,000"],
        ["5", "Globex", periods.label(y, m), "1,500,000", "1,800,000"],
    ]
    assert "1 row matches the recorded usage and is left as it is." in text
    hint = re.search(
        r'<div class="alert alert-warn stale-bills".*?</div>', response.content.decode(), re.S
    )[0]
    assert (
        "1 bill was computed from other totals and will be flagged for recomputing"
        in plain_html(hint)
    )
    assert f'href="/bills/{world["bill"].pk}"' in hint
    assert "Confirm and record 3 changes" in text
    # Nothing but the preview is written.
    assert (
        sorted(Usage.objects.values_list("customer__name", "year", "month", "api_usage")) == before
    )
    assert not UsageRevision.objects.exists()
    assert UsageUpload.objects.get().confirmed_at is None


def plain_html(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_confirm_records_the_preview_with_revisions_by_csv_and_file_name(fiona, finance, world):
    response = confirm(fiona, token(upload(fiona, file_of(world))))
    text = plain(response)
    assert "Recorded 4 rows, 3 changed: 1 new, 2 updated, 1 unchanged." in text
    assert "1 bill was computed from older usage; recompute it from the bill page." in text
    y, m = world["year"], world["month"]
    assert sorted(Usage.objects.values_list("customer__name", "year", "month", "api_usage")) == [
        ("Acme Corp", 2025, 3, 1_250_000),
        ("Acme Corp", 2025, 4, 7),
        ("Globex", 2025, 3, 50),
        ("Globex", y, m, 1_800_000),
    ]
    revisions = UsageRevision.objects.order_by("id")
    assert [
        (
            r.usage.customer.name,
            r.usage.month,
            r.old_value,
            r.new_value,
            r.user,
            r.source,
            r.file_name,
        )
        for r in revisions
    ] == [
        ("Acme Corp", 3, 900_000, 1_250_000, finance, "csv", "october.csv"),
        ("Acme Corp", 4, None, 7, finance, "csv", "october.csv"),
        ("Globex", m, 1_500_000, 1_800_000, finance, "csv", "october.csv"),
    ]


def test_confirm_applies_the_previewed_rows_not_a_new_file(fiona, world):
    previewed = token(upload(fiona, file_of(world)))
    # Another file is previewed meanwhile; the first Confirm still records the first file.
    upload(fiona, f"{HEADER}{world['acme'].pk},2025,3,1\n")
    confirm(fiona, previewed)
    assert Usage.objects.get(customer=world["acme"], month=3, year=2025).api_usage == 1_250_000


def test_confirm_is_refused_when_the_usage_changed_since_the_preview(fiona, finance, world):
    previewed = token(upload(fiona, file_of(world)))
    usage_record(customer=world["acme"], year=2025, month=3, api_usage=950_000, user=finance)
    response = confirm(fiona, previewed)
    assert response.status_code == 200
    assert (
        "The usage of 1 month changed since the preview (Acme Corp, March 2025: 900,000 at the "
        "preview, now 950,000). Nothing was recorded: upload the file again to preview the "
        "current changes." in plain(response)
    )
    assert "flash-error" in response.content.decode()
    assert Usage.objects.get(customer=world["acme"], year=2025, month=3).api_usage == 950_000
    assert not Usage.objects.filter(month=4).exists()
    assert UsageRevision.objects.count() == 1  # the change made meanwhile, nothing more
    # Previewing again shows the current values, and that preview can be confirmed.
    again = upload(fiona, file_of(world))
    assert ["2", "Acme Corp", "March 2025", "950,000", "1,250,000"] in table(
        again, "preview-changed"
    )
    assert "Recorded 4 rows, 3 changed" in plain(confirm(fiona, token(again)))


def test_a_month_created_since_the_preview_also_refuses_the_confirm(fiona, finance, world):
    previewed = token(upload(fiona, file_of(world)))
    usage_record(customer=world["acme"], year=2025, month=4, api_usage=7, user=finance)
    text = plain(confirm(fiona, previewed))
    assert "(Acme Corp, April 2025: none at the preview, now 7)" in text
    assert not UsageRevision.objects.filter(source=UsageSource.CSV).exists()


def test_a_second_confirm_of_the_same_preview_changes_nothing(fiona, world):
    previewed = token(upload(fiona, file_of(world)))
    confirm(fiona, previewed)
    revisions = UsageRevision.objects.count()
    response = confirm(fiona, previewed)
    assert re.search(
        r"october\.csv was already recorded at \d\d:\d\d \(4 rows, 3 changed\); this Confirm "
        r"changed nothing\.",
        plain(response),
    )
    assert "Recorded" not in plain(response)
    assert UsageRevision.objects.count() == revisions == 3


def test_the_same_file_again_previews_as_unchanged_with_nothing_to_confirm(fiona, world):
    confirm(fiona, token(upload(fiona, file_of(world))))
    response = upload(fiona, file_of(world))
    text = plain(response)
    assert "4 rows, 0 to change: 0 new months, 0 changed, 4 unchanged." in text
    assert "Every row matches the recorded usage: there is nothing to record." in text
    assert 'name="upload"' not in response.content.decode()


def test_a_preview_of_another_user_cannot_be_confirmed(fiona, page_as, world):
    previewed = token(upload(fiona, file_of(world)))
    frank = page_as(UserFactory(name="frank", role="Finance"))
    response = confirm(frank, previewed)
    assert "This preview does not exist (or is not yours); upload the file again." in plain(
        response
    )
    assert not UsageRevision.objects.exists()


@pytest.mark.parametrize("upload_id", ["", "nonsense", "00000000-0000-0000-0000-000000000000"])
def test_a_confirm_without_a_preview_is_refused(fiona, upload_id):
    response = confirm(fiona, upload_id)
    assert response.status_code == 200
    assert "This preview does not exist" in plain(response)


def test_an_expired_preview_cannot_be_confirmed(fiona, world):
    previewed = token(upload(fiona, file_of(world)))
    UsageUpload.objects.update(created_at=UsageUpload.objects.get().created_at - timedelta(hours=2))
    text = plain(confirm(fiona, previewed))
    assert "This preview has expired (previews are kept for an hour)" in text
    assert not UsageRevision.objects.exists()


def test_a_customer_deleted_since_the_preview_is_listed_on_its_line(fiona, world):
    gone = CustomerFactory(name="Gone Ltd")
    gone_id = gone.pk
    previewed = token(upload(fiona, f"{HEADER}{world['acme'].pk},2025,5,1\n{gone_id},2025,5,2\n"))
    gone.delete()
    response = confirm(fiona, previewed)
    assert "Nothing was recorded" in plain(response)
    assert f"3 customer_id – No customer has id {gone_id}." in plain(response)
    assert not Usage.objects.filter(month=5).exists()


@pytest.mark.parametrize("role", ["sales", "csm"])
def test_other_roles_cannot_confirm(page_as, users, role, fiona, world):
    previewed = token(upload(fiona, file_of(world)))
    assert confirm(page_as(users[role]), previewed).status_code == 403
    assert not UsageRevision.objects.exists()


def test_old_previews_are_cleaned_up(fiona, world):
    upload(fiona, file_of(world))
    UsageUpload.objects.update(created_at=UsageUpload.objects.get().created_at - timedelta(days=2))
    upload(fiona, file_of(world))
    assert UsageUpload.objects.count() == 1


def test_a_preview_lists_at_most_100_rows_of_each_kind(fiona, finance):
    customers = CustomerFactory.create_batch(130)
    content = HEADER + "".join(f"{c.pk},2025,3,{i}\n" for i, c in enumerate(customers))
    response = upload(fiona, content)
    assert len(table(response, "preview-new")) == 100
    assert "and 30 more new months." in plain(response)


def test_the_preview_runs_a_fixed_number_of_queries(fiona, finance):
    def run(year: int, n: int) -> int:
        customers = CustomerFactory.create_batch(n)
        for c in customers[: n // 2]:
            make_bill(customer=c, finance=finance, year=year, month=3, api_usage=2_000_000)
        content = HEADER + "".join(f"{c.pk},{year},3,{i}\n" for i, c in enumerate(customers))
        with CaptureQueriesContext(connection) as queries:
            assert "will be flagged" in plain(upload(fiona, content))
        return len(queries)

    assert run(2024, 4) == run(2025, 40)


def test_sent_bills_are_not_flagged_in_the_preview(fiona, finance, world):
    Bill.objects.filter(pk=world["bill"].pk).update(status=Status.SENT)
    assert "will be flagged" not in plain(upload(fiona, file_of(world)))


def test_a_file_big_enough_to_go_to_a_temporary_file_is_read_from_it(fiona, settings, customer):
    # Django keeps uploads over FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) in a temporary file.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    padding = " " * 3000  # values are read without their surrounding spaces
    content = HEADER + "".join(f"{customer.pk},2024,{m},{m}{padding}\n" for m in range(1, 13))
    assert len(content) > 1024
    response = upload(fiona, content)
    assert "12 rows, 12 to change: 12 new months" in plain(response)
