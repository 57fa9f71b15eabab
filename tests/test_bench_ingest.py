"""bench/ingest.py runs end to end (issue 14: "a --quick mode ... runs in CI, so the benchmark
itself cannot rot"): on 2,000 customers x 10 months (two batches over HTTP) it exits 0, prints
its figures and writes its JSON with the rows stored by each way in equal to the rows sent.
Timings are not asserted."""

import json

from tests.benches import needs_postgresql, results_written, run_bench

pytestmark = needs_postgresql


def test_quick_ingest_bench_runs_and_stores_what_it_sent(tmp_path):
    stdout = run_bench(
        "ingest.py",
        "--quick",
        "--customers",
        "2000",
        "--workers",
        "2",
        "--clients",
        "2",
        results_dir=tmp_path,
    )
    for figure in ("POST /api/usage over HTTP", "import_usage", "floor: COPY"):
        assert figure in stdout
    assert "20,000 rows, sum 29,356,800,000: same" in stdout
    path = results_written(stdout)[0]
    assert path.parent == tmp_path and path.name.startswith("ingest-")
    doc = json.loads(path.read_text())
    assert (doc["customers"], doc["months"], doc["runs"]) == (2000, 10, 1)
    assert (doc["rows_sent"], doc["sum_sent"]) == (20_000, 29_356_800_000)
    assert doc["stored_equals_sent"] is True
    sent = {"count": 20_000, "sum": 29_356_800_000}
    for way in ("http", "import", "floor", "floor_history"):
        (stored,) = doc[way]["stored"]
        assert {k: stored[k] for k in sent} == sent, way
        assert doc[way]["rows_per_s"][0] > 0
    # The app writes a revision per new month; the plain floor writes none.
    assert doc["http"]["stored"][0]["revisions"] == 20_000
    assert doc["import"]["stored"][0]["revisions"] == 20_000
    assert doc["floor"]["stored"][0]["revisions"] == 0
    assert doc["http"]["refused"] == [[]]
    figures = [r["figure"] for r in doc["rows"]]
    assert figures[0].startswith("POST /api/usage over HTTP (2 gunicorn workers, 2 clients")
    assert figures[1].startswith("import_usage") and figures[2].startswith("floor: COPY")
