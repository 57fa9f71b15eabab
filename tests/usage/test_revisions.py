"""Every change of a month's usage keeps a revision: old value (None for a new month), new value,
who, when and from where, by every way usage comes in. Unchanged values write nothing. Revisions
are written set-based, in the transaction of the usage they describe."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CustomerFactory
from usage.models import Usage, UsageRevision
from usage.services import usage_record_many
from usage.services.batch import SMALL

pytestmark = pytest.mark.django_db


# Each way in: record(customer, month, value, user) -> the file name it should leave ("" if none).


def by_page_entry(customer, month, value, user, *, page_as, **_):
    data = {
        "form": "entry",
        "entry-customer": customer.pk,
        "entry-year": 2025,
        "entry-month": month,
        "entry-api_usage": value,
    }
    html = page_as(user).post("/usage/record", data).content.decode()
    # Replacing a recorded total asks first: confirm the total the page showed.
    shown = re.search(r'name="entry-confirm_old" value="(\d+)"', html)
    if shown:
        data["entry-confirm_old"] = shown.group(1)
        html = page_as(user).post("/usage/record", data).content.decode()
    assert "Recorded" in html
    return ""


def by_page_csv(customer, month, value, user, *, page_as, **_):
    client = page_as(user)
    content = f"customer_id,year,month,api_usage\n{customer.pk},2025,{month},{value}\n".encode()
    file = SimpleUploadedFile("march.csv", content, content_type="text/csv")
    preview = client.post("/usage/record", {"form": "upload", "upload-file": file}).content
    token = re.search(r'name="upload" value="([^"]+)"', preview.decode())
    if token is None:  # nothing would change: the preview offers no Confirm
        assert "there is nothing to record" in preview.decode()
        return "march.csv"
    confirmed = client.post("/usage/record", {"form": "confirm", "upload": token[1]})
    assert "Recorded" in confirmed.content.decode()
    return "march.csv"


def by_api(customer, month, value, user, *, api_as, **_):
    item = {"customer_id": customer.pk, "year": 2025, "month": month, "api_usage": value}
    assert api_as(user).post("/api/usage", item).status_code == 200
    return ""


def by_admin(customer, month, value, user, *, page_as, **_):
    client = page_as(user)
    management = {"revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0"}
    usage = Usage.objects.filter(customer=customer, year=2025, month=month).first()
    if usage:
        url = reverse("admin:usage_usage_change", args=[usage.pk])
        management["revisions-INITIAL_FORMS"] = str(usage.revisions.count())
        management["revisions-TOTAL_FORMS"] = management["revisions-INITIAL_FORMS"]
        for i, revision in enumerate(usage.revisions.order_by("-created_at", "-id")):
            management[f"revisions-{i}-id"] = str(revision.pk)
            management[f"revisions-{i}-usage"] = str(usage.pk)
        data = {"api_usage": value}
    else:
        url = reverse("admin:usage_usage_add")
        data = {"customer": customer.pk, "year": 2025, "month": month, "api_usage": value}
    response = client.post(url, data | management)
    assert response.status_code == 302, response.content.decode()[:2000]
    return ""


def by_command(customer, month, value, user, *, tmp_path, **_):
    path = tmp_path / "usage-march.csv"
    path.write_text(f"customer_id,year,month,api_usage\n{customer.pk},2025,{month},{value}\n")
    call_command("import_usage", str(path), "--as", user.name, stdout=StringIO(), verbosity=0)
    return "usage-march.csv"


PATHS = {
    "page": by_page_entry,
    "csv": by_page_csv,
    "api": by_api,
    "admin": by_admin,
    "command": by_command,
}


@pytest.fixture
def fiona_staff(finance):
    finance.is_staff = finance.is_superuser = True
    finance.save()
    return finance


@pytest.mark.parametrize("source", PATHS)
def test_every_way_in_keeps_who_when_where_and_the_old_and_new_values(
    source, customer, fiona_staff, page_as, api_as, tmp_path
):
    record = PATHS[source]
    tools = {"page_as": page_as, "api_as": api_as, "tmp_path": tmp_path}
    file_name = record(customer, 3, 900_000, fiona_staff, **tools)
    record(customer, 3, 1_250_000, fiona_staff, **tools)
    record(customer, 3, 1_250_000, fiona_staff, **tools)  # the same again: no revision
    usage = Usage.objects.get(customer=customer, year=2025, month=3)
    assert usage.api_usage == 1_250_000
    assert [
        (r.old_value, r.new_value, r.user.name, r.source, r.file_name)
        for r in usage.revisions.order_by("id")
    ] == [
        (None, 900_000, "fiona", source, file_name),
        (900_000, 1_250_000, "fiona", source, file_name),
    ]
    first, second = usage.revisions.order_by("id")
    assert first.created_at <= second.created_at
    assert second.created_at == usage.updated_at  # one time for the row and its revision


def test_the_api_names_the_tokens_user(customer, finance, api_as):
    other = type(finance).objects.create_user(name="fran", role="Finance", password="x" * 12)
    item = {"customer_id": customer.pk, "year": 2025, "month": 3, "api_usage": 7}
    api_as(other).post("/api/usage", item)
    assert UsageRevision.objects.get().user == other


def test_revisions_are_written_set_based_in_a_fixed_number_of_queries(finance):
    def run(year: int, n: int) -> int:
        customers = CustomerFactory.create_batch(n)
        items = [
            {"customer_id": c.pk, "year": year, "month": m, "api_usage": m}
            for c in customers
            for m in (1, 2)
        ]
        with CaptureQueriesContext(connection) as queries:
            usage_record_many(items=items, user=finance, source="api")
        return len(queries)

    # Up to SMALL rows are staged as a VALUES list (no temporary tables), more in a table: a
    # fixed number of queries each way, fewer for the small batch.
    small, small_full = run(2021, 1), run(2022, SMALL // 2)
    large, larger = run(2023, SMALL // 2 + 1), run(2024, 150)
    assert small == small_full
    assert large == larger
    assert small < large
    assert UsageRevision.objects.count() == 2 * (1 + SMALL // 2 + SMALL // 2 + 1 + 150)


@pytest.mark.parametrize("rows", [1, SMALL, SMALL + 1, 250])
def test_small_and_large_batches_record_the_same(finance, rows):
    """The VALUES path (up to SMALL rows) and the staging table (more) take the same rows to
    the same usage, revisions and counts, changed and unchanged rows mixed."""
    customers = CustomerFactory.create_batch(rows)
    first = [
        {"customer_id": c.pk, "year": 2025, "month": 3, "api_usage": 10 * i}
        for i, c in enumerate(customers)
    ]
    assert usage_record_many(items=first, user=finance, source="api").as_dict() == {
        "created": rows,
        "updated": 0,
        "unchanged": 0,
    }
    again = [dict(item, api_usage=item["api_usage"] + (i % 2)) for i, item in enumerate(first)]
    assert usage_record_many(items=again, user=finance, source="api").as_dict() == {
        "created": 0,
        "updated": rows // 2,
        "unchanged": rows - rows // 2,
    }
    stored = dict(Usage.objects.values_list("customer_id", "api_usage"))
    assert stored == {item["customer_id"]: item["api_usage"] for item in again}

    def key(revision):
        return revision[0], revision[1] is not None

    revisions = sorted(
        UsageRevision.objects.values_list("usage__customer_id", "old_value", "new_value"), key=key
    )
    expected = [(c["customer_id"], None, c["api_usage"]) for c in first] + [
        (a["customer_id"], f["api_usage"], a["api_usage"])
        for f, a in zip(first, again, strict=True)
        if f != a
    ]
    assert revisions == sorted(expected, key=key)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PL/pgSQL trigger")
def test_a_failed_revision_write_leaves_the_usage_unwritten(customer, finance):
    usage_record_many(
        items=[{"customer_id": customer.pk, "year": 2025, "month": 3, "api_usage": 1}],
        user=finance,
        source="api",
    )
    with connection.cursor() as cursor:
        # Inside the test's transaction: gone when the test ends.
        cursor.execute(
            "CREATE FUNCTION pg_temp.refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION "
            "'no revisions today'; END; $$ LANGUAGE plpgsql; "
            "CREATE TRIGGER refuse_revisions BEFORE INSERT ON usage_usagerevision "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse();"
        )
    items = [
        {"customer_id": customer.pk, "year": 2025, "month": 3, "api_usage": 2},
        {"customer_id": customer.pk, "year": 2025, "month": 4, "api_usage": 3},
    ]
    with pytest.raises(DatabaseError, match="no revisions today"):
        usage_record_many(items=items, user=finance, source="api")
    assert list(Usage.objects.values_list("month", "api_usage")) == [(3, 1)]
