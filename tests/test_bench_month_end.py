"""bench/month_end.py runs end to end through `make bench`'s bench/run.py (issue 14: "a --quick
mode ... runs in CI, so the benchmark itself cannot rot"): on a small data set it exits 0,
prints its figures and writes its JSON with the service's bill count equal to the raw-SQL
floor's, and make bench gathers it. Timings are not asserted."""

import json
import subprocess
import sys

from tests.benches import ROOT, needs_postgresql, results_written, run_bench

pytestmark = needs_postgresql


def test_quick_month_end_bench_runs_through_make_bench_and_agrees_with_its_floor(tmp_path):
    stdout = run_bench(
        "run.py", "--quick", "--customers", "2000", "--only", "month_end", results_dir=tmp_path
    )
    for figure in ("bill_generate", "per-customer loop", "raw-SQL floor"):
        assert figure in stdout
    written = results_written(stdout)
    assert len(written) == 2, stdout  # the month end's, then make bench's of them all
    path = written[0]
    assert path.parent == tmp_path and path.name.startswith("month_end-")
    doc = json.loads(path.read_text())
    combined = json.loads(written[1].read_text())
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
