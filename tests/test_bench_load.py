"""bench/load.py runs end to end (issue 14: "a --quick mode ... runs in CI, so the benchmark
itself cannot rot"): on a small data set, 2 s per figure, it starts gunicorn, runs wrk for each
figure, exits 0, prints every figure beside the reference and writes its JSON with 2xx answers
for each. Timings are not asserted."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
DB = settings.DATABASES["default"]

pytestmark = [
    pytest.mark.skipif(
        "postgresql" not in DB["ENGINE"],
        reason="bench/load.py measures PostgreSQL only (it creates its own database there)",
    ),
    pytest.mark.skipif(shutil.which("wrk") is None, reason="bench/load.py drives wrk"),
]

FIGURES = {
    "session": "GET /api/session",
    "live": "GET /health/live",
    "dashboard": "dashboard (Finance session)",
    "api_bills": "GET /api/bills?page_size=50",
    "bill_page": "bill page /bills/<id>",
    "usage_post": "POST /api/usage, one row",
    "approve": "PATCH /api/bills/<id>/approve",
}


def server_url() -> str:
    """The test database's server as a URL; the benchmark makes and drops its own database."""
    auth = quote(DB["USER"] or "postgres", safe="")
    if DB.get("PASSWORD"):
        auth += ":" + quote(DB["PASSWORD"], safe="")
    return f"postgres://{auth}@{DB['HOST'] or '127.0.0.1'}:{DB['PORT'] or 5432}/postgres"


def test_quick_load_bench_runs_every_figure(tmp_path):
    env = {**os.environ, "DATABASE_URL": server_url()}
    run = subprocess.run(
        [sys.executable, "bench/load.py", "--quick", "--customers", "1000", "--seconds", "2"]
        + ["--results-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    for label in FIGURES.values():
        assert f"| {label}" in run.stdout
    assert "| reference | ratio | target | met? |" in run.stdout
    written = re.search(r"^results: (.+)$", run.stdout, re.MULTILINE)
    assert written, run.stdout
    path = Path(written.group(1))
    assert path.parent == tmp_path and path.name.startswith("load-")
    doc = json.loads(path.read_text())
    assert doc["customers"] == 1000 and doc["runs"] == 1 and doc["bills"] > 1000
    assert set(doc["figures"]) == set(FIGURES)
    for key, figure in doc["figures"].items():
        [result] = figure["runs"]
        ok = sum(n for status, n in result["statuses"].items() if status.startswith("2"))
        assert ok > 0, (key, result)
    # An approve is answered once per bill: a run never repeats an id, so no 409s.
    assert set(doc["figures"]["approve"]["runs"][0]["statuses"]) == {"200"}
    assert len(doc["rows"]) == len(FIGURES)
