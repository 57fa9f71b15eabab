"""Running a benchmark script of `make bench` from a test (tests/test_bench_*.py): on the test
database's PostgreSQL server (the script creates and drops its own database there)."""

from __future__ import annotations

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

needs_postgresql = pytest.mark.skipif(
    "postgresql" not in DB["ENGINE"],
    reason="the benchmarks measure PostgreSQL only (each creates its own database there)",
)


def server_url() -> str:
    """The test database's server as a URL, its "postgres" database named."""
    auth = quote(DB["USER"] or "postgres", safe="")
    if DB.get("PASSWORD"):
        auth += ":" + quote(DB["PASSWORD"], safe="")
    return f"postgres://{auth}@{DB['HOST'] or '127.0.0.1'}:{DB['PORT'] or 5432}/postgres"


def run_bench(script: str, *args: str, results_dir: Path, timeout: int = 120) -> str:
    """Run bench/<script> with `args` and --results-dir; assert it exits 0 and return what it
    printed."""
    run = subprocess.run(
        [sys.executable, f"bench/{script}", *args, "--results-dir", str(results_dir)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": server_url()},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return run.stdout


def results_written(stdout: str) -> list[Path]:
    """The results files a benchmark's output names ("results: <path>" lines), in order."""
    found = [Path(p) for p in re.findall(r"^results: (.+)$", stdout, re.MULTILINE)]
    assert found, stdout
    return found
