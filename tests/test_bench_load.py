"""bench/load.py runs end to end (issue 14: "a --quick mode ... runs in CI, so the benchmark
itself cannot rot"): on a small data set, 2 s per figure, it starts gunicorn, runs wrk for each
figure, exits 0, prints every figure beside the reference and writes its JSON with 2xx answers
for each. Timings are not asserted."""

import json
import shutil

import pytest

from tests.benches import needs_postgresql, results_written, run_bench

pytestmark = [
    needs_postgresql,
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


def test_quick_load_bench_runs_every_figure(tmp_path):
    stdout = run_bench(
        "load.py", "--quick", "--customers", "1000", "--seconds", "2", results_dir=tmp_path
    )
    for label in FIGURES.values():
        assert f"| {label}" in stdout
    assert "| reference | ratio | target | met? |" in stdout
    path = results_written(stdout)[0]
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
