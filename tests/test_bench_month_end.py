"""bench/month_end.py runs end to end through `make bench`'s bench/run.py (issue 14: "a --quick
mode ... runs in CI, so the benchmark itself cannot rot"): on a small data set it exits 0,
prints its figures and writes its JSON with the service's bill count equal to the raw-SQL
floor's, and make bench gathers it. Timings are not asserted."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
DB = settings.DATABASES["default"]

pytestmark = pytest.mark.skipif(
    "postgresql" not in DB["ENGINE"],
    reason="bench/month_end.py measures PostgreSQL only (it creates its own database there)",
)


def server_url() -> str:
    """The test database's server as a URL; the benchmark makes and drops its own database."""
    auth = quote(DB["USER"] or "postgres", safe="")
    if DB.get("PASSWORD"):
        auth += ":" + quote(DB["PASSWORD"], safe="")
    return f"postgres://{auth}@{DB['HOST'] or '127.0.0.1'}:{DB['PORT'] or 5432}/postgres"


def test_quick_month_end_bench_runs_through_make_bench_and_agrees_with_its_floor(tmp_path):
    env = {**os.environ, "DATABASE_URL": server_url()}
    run = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--customers", "2000", "--only", "month_end"]
        + ["--results-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    for figure in ("bill_generate", "per-customer loop", "raw-SQL floor"):
        assert figure in run.stdout
    written = re.findall(r"^results: (.+)$", run.stdout, re.MULTILINE)
    assert len(written) == 2, run.stdout  # the month end's, then make bench's of them all
    path = Path(written[0])
    assert path.parent == tmp_path and path.name.startswith("month_end-")
    doc = json.loads(path.read_text())
    combined = json.loads(Path(written[1]).read_text())
    assert combined["benchmarks"]["month_end"]["exit"] == 0
    assert combined["benchmarks"]["month_end"]["results"]["rows"] == doc["rows"]
    assert [row["figure"].split(" (")[0] for row in doc["rows"]] == [
        "month end, bill_generate",
        "vs per-customer loop",
        "vs raw-SQL floor",
        "month end peak RSS",
    ]
    assert doc["customers"] == 2000 and doc["runs"] == 1
    assert doc["service"]["bills"][0] > 0
    assert doc["service"]["bills"] == doc["floor"]["bills"]
    assert doc["floor_matches_service"] is True


def test_make_bench_names_an_unknown_benchmark():
    run = subprocess.run(
        [sys.executable, "bench/run.py", "--only", "month_end,nightly"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "unknown benchmark nightly" in run.stderr
