"""bench/queries.py runs end to end (issue 14: "a --quick mode ... runs in CI, so the benchmark
itself cannot rot"): on a small data set it exits 0, prints a row for every request and writes
its JSON, every request answering 200 and asking as many queries as at the reference size.
Timings are not asserted."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.test_bench_month_end import server_url

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="bench/queries.py measures PostgreSQL only (it creates its own database there)",
)


def test_quick_queries_bench_runs_and_counts_equal_queries_at_both_sizes(tmp_path):
    env = {**os.environ, "DATABASE_URL": server_url()}
    run = subprocess.run(
        [sys.executable, "bench/queries.py", "--quick", "--customers", "300"]
        + ["--results-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    for figure in (
        "| dashboard |",
        "| usage overview, billed month |",
        "| GET /api/bills/unbilled |",
    ):
        assert figure in run.stdout
    written = re.search(r"^results: (.+)$", run.stdout, re.MULTILINE)
    assert written, run.stdout
    path = Path(written.group(1))
    assert path.parent == tmp_path and path.name.startswith("queries-")
    doc = json.loads(path.read_text())
    assert doc["customers"] == 300 and doc["reference_customers"] == 10 and doc["runs"] == 1
    assert doc["not_200"] == []
    assert len(doc["rows"]) == len(doc["measured"]) == len(doc["reference"]) >= 30
    unequal = {
        figure: (doc["reference"][figure]["queries"], got["queries"])
        for figure, got in doc["measured"].items()
        if got["queries"] != doc["reference"][figure]["queries"]
    }
    assert not unequal, unequal
    assert doc["queries_equal"] is True
