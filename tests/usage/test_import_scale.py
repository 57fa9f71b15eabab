"""import_usage at scale on PostgreSQL: a 200,000-row file through COPY, the same file again
(nothing changes), the batched path without COPY (SQLite's, forced here), and memory that does
not grow with the file. The speed itself is measured by bench/usage_file.py, not asserted here.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from customers.models import Customer
from usage.csv_import import CsvRowsError
from usage.models import Usage, UsageRevision
from usage.services.imports import usage_import_csv

ROOT = Path(__file__).resolve().parents[2]
HEADER = "customer_id,year,month,api_usage\n"
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY, and a database another process can read"
)

# How much more memory a 200,000-row import may take than a 50,000-row one: 2 MB. The
# streamed import peaks at 110-140 MB (by machine) for both, usually within 1.5 MB of each
# other (once, in CI on a busy machine, a small import peaked 5 MB lower: each size runs
# twice). Holding the 150,000 extra rows in a list costs about 30 MB more (measured), and even
# reading the file whole, only its 2.9 MB of extra bytes, 3.5-4.4 MB more (measured): both
# fail this bound.
MAX_GROWTH_KB = 2 * 1024


def customers(n: int) -> list[int]:
    Customer.objects.bulk_create(
        (
            Customer(
                name=f"Scale customer {i:06d}",
                billing_email=f"ap{i}@scale.example",
                monthly_api_limit=1_000_000,
                overage_unit_cost=Decimal("0.0025"),
                start_date=date(2020, 1, 1),
            )
            for i in range(n)
        ),
        batch_size=5_000,
    )
    return list(Customer.objects.order_by("id").values_list("id", flat=True))


def write_file(path: Path, ids: list[int], year: int, *, plus: int = 0) -> Path:
    """Ten months of `year` for each customer: len(ids) * 10 rows."""
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for k, customer_id in enumerate(ids):
            out.write(
                "".join(f"{customer_id},{year},{m},{k * 31 + m + plus}\n" for m in range(1, 11))
            )
    return path


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_usage", *args, stdout=out, verbosity=0)
    return out.getvalue()


@postgres_only
@pytest.mark.django_db
def test_a_200000_row_file_is_imported_through_copy(tmp_path, finance):
    ids = customers(20_000)
    path = write_file(tmp_path / "big.csv", ids, 2024)
    assert run(str(path)) == (
        "Recorded 200,000 rows, 200,000 changed: 200,000 new, 0 updated, 0 unchanged.\n"
    )
    assert Usage.objects.count() == 200_000
    assert UsageRevision.objects.filter(source="command", file_name="big.csv").count() == 200_000
    assert Usage.objects.get(customer_id=ids[-1], year=2024, month=10).api_usage == (
        19_999 * 31 + 10
    )
    # The same file again: nothing changes and it says so.
    assert run(str(path)) == (
        "Recorded 200,000 rows, 0 changed: 0 new, 0 updated, 200,000 unchanged.\n"
    )
    assert UsageRevision.objects.count() == 200_000
    # A file that changes a tenth of the months.
    changed = tmp_path / "changed.csv"
    changed.write_text(HEADER + "".join(f"{c},2024,5,7\n" for c in ids[:20_000]))
    assert run(str(changed)).startswith("Recorded 20,000 rows, 20,000 changed: 0 new, 20,000 up")
    revision = UsageRevision.objects.filter(file_name="changed.csv").order_by("id").first()
    assert (revision.old_value, revision.new_value) == (5, 7)


@postgres_only
@pytest.mark.django_db
def test_a_bad_line_deep_in_a_big_file_refuses_it_whole(tmp_path, finance):
    ids = customers(20_000)
    path = write_file(tmp_path / "big.csv", ids, 2024)
    with path.open("a") as out:
        out.write(f"{ids[0]},2024,13,5\n")
    with pytest.raises(CsvRowsError) as caught:
        usage_import_csv(stream=path.open("rb"), file_name="big.csv", user=finance)
    assert [(e.line, e.field) for e in caught.value.line_errors] == [(200_002, "month")]
    assert not Usage.objects.exists() and not UsageRevision.objects.exists()


CASES = [
    # (a line, what is wrong with it) for the same rules on both paths.
    ("{c},2024,13,5", "month: “13” is out of range: enter a month from 1 to 12."),
    ("{c},2024,2,1.5", "api_usage: “1.5” is not a whole number: type digits only."),
    ("999999999,2024,2,5", "customer_id: No customer has id 999999999."),
    ("{c},2024,1,9", "month: Line 2 already sets customer {c}, 2024-01; keep one."),
    (
        "{c},2999,1,9",
        "month: 2999-01 is in the future; usage can be recorded once the month starts.",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("copy", [False, True], ids=["batched", "copy"])
def test_both_paths_refuse_the_same_lines_with_the_same_words(tmp_path, finance, customer, copy):
    if copy and connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    c = customer.pk
    body = f"{c},2024,1,1\n" + "".join(line.format(c=c) + "\n" for line, _ in CASES)
    with pytest.raises(CsvRowsError) as caught:
        usage_import_csv(
            stream=io.BytesIO((HEADER + body).encode()), file_name="x.csv", user=finance, copy=copy
        )
    assert [f"line {e.line}, {e.field}: {e.message}" for e in caught.value.line_errors] == [
        f"line {n}, {problem.format(c=c)}" for n, (_, problem) in enumerate(CASES, start=3)
    ]
    assert not Usage.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("copy", [False, True], ids=["batched", "copy"])
def test_both_paths_write_the_same_months_and_revisions(tmp_path, finance, copy):
    if copy and connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    ids = customers(1_200)
    first = write_file(tmp_path / "a.csv", ids, 2023)
    result = usage_import_csv(stream=first.open("rb"), file_name="a.csv", user=finance, copy=copy)
    assert (result.created, result.updated, result.unchanged) == (12_000, 0, 0)
    again = write_file(tmp_path / "b.csv", ids[:600], 2023, plus=1)
    result = usage_import_csv(stream=again.open("rb"), file_name="b.csv", user=finance, copy=copy)
    assert (result.created, result.updated, result.unchanged) == (0, 6_000, 0)
    assert Usage.objects.count() == 12_000
    assert list(
        UsageRevision.objects.filter(file_name="b.csv")
        .order_by("id")
        .values_list("usage__customer_id", "usage__month", "old_value", "new_value")[:2]
    ) == [(ids[0], 1, 1, 2), (ids[0], 2, 2, 3)]


# A process's peak memory (ru_maxrss) counts its parent's pages when it is forked from a big
# parent (Linux keeps the high-water mark across exec), and pytest is big: a small wrapper
# process starts the command and reports the peak of its only child.
WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


def _peak_rss_kb(path: Path, env: dict[str, str]) -> int:
    """Run import_usage on the file in a fresh process; its own peak resident memory, in KB."""
    command = [sys.executable, "manage.py", "import_usage", str(path), "--as", "fiona", "-v", "0"]
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "rows" in done.stdout, done.stdout
    return int(done.stderr.strip().splitlines()[-1])


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_memory_of_an_import_does_not_grow_with_the_file(tmp_path, finance):
    ids = customers(20_000)
    # Each size twice, each file its own year (every run writes all its rows).
    small = [write_file(tmp_path / f"small{y}.csv", ids[:5_000], y) for y in (2021, 2022)]
    big = [write_file(tmp_path / f"big{y}.csv", ids, y) for y in (2023, 2024)]  # 200,000 rows
    settings = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        ),
        "SECRET_KEY": "memory-test-only-0123456789abcdefghijklmnopqrstuvwxyz",
        "DEBUG": "0",
    }
    # The lower peak of the big files against the higher of the small ones: a process's peak
    # once came out 5 MB under its usual in CI, on a busy machine; a real growth (rows held, the
    # file read whole) shows in every run.
    small_kb = [_peak_rss_kb(path, env) for path in small]
    big_kb = [_peak_rss_kb(path, env) for path in big]
    assert Usage.objects.count() == 500_000
    assert min(big_kb) - max(small_kb) <= MAX_GROWTH_KB, (small_kb, big_kb)
