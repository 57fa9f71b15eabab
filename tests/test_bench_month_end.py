"""bench/month_end.py runs end to end (issue 14: "a --quick mode ... runs in CI, so the benchmark
itself cannot rot"): on a small data set it exits 0, prints the three figures and writes its
JSON with the service's bill count equal to the raw-SQL floor's. Timings are not asserted."""

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


def test_quick_month_end_bench_runs_and_agrees_with_its_floor(tmp_path):
    env = {**os.environ, "DATABASE_URL": server_url()}
    run = subprocess.run(
        [sys.executable, "bench/month_end.py", "--quick", "--customers", "2000"]
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
    written = re.search(r"^results: (.+)$", run.stdout, re.MULTILINE)
    assert written, run.stdout
    path = Path(written.group(1))
    assert path.parent == tmp_path and path.name.startswith("month_end-")
    doc = json.loads(path.read_text())
    assert doc["customers"] == 2000 and doc["runs"] == 1
    assert doc["service"]["bills"][0] > 0
    assert doc["service"]["bills"] == doc["floor"]["bills"]
    assert doc["floor_matches_service"] is True
