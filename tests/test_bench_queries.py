"""bench/queries.py runs end to end (issue 14: "a --quick mode ... runs in CI, so the benchmark
itself cannot rot"): on a small data set it exits 0, prints a row for every request and writes
its JSON, every request answering 200 and asking as many queries as at the reference size.
Timings are not asserted."""

import json

from tests.benches import needs_postgresql, results_written, run_bench

pytestmark = needs_postgresql


def test_quick_queries_bench_runs_and_counts_equal_queries_at_both_sizes(tmp_path):
    stdout = run_bench("queries.py", "--quick", "--customers", "300", results_dir=tmp_path)
    for figure in (
        "| dashboard |",
        "| usage overview, billed month |",
        "| GET /api/bills/unbilled |",
    ):
        assert figure in stdout
    path = results_written(stdout)[0]
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
