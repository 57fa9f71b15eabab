"""`make bench`: every benchmark beside its reference, in one run (issue 14).

    make bench                                   # 100,000 customers, 3 runs of each figure
    make bench ARGS=--quick                      # 10,000 customers, one run: CI
    make bench ARGS="--only month_end,load"      # some of them
    make bench ARGS="--customers 20000 --runs 5"

Needs a PostgreSQL server: DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres (the
server is only reached through it; each benchmark creates, fills and drops its own database).
Runs each benchmark (BENCHMARKS) as its own process with the same options, one after the other
(so none measures beside another), prints their tables, then writes all their figures to
bench/results/bench-<time>.json (gitignored). Exit status: 0 when every benchmark ran and its
references agreed with what it measured (missed targets are in the tables, marked NO), else 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from common import RESULTS, render, server_url, write_results  # noqa: E402

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
# Name -> the script: month end, usage ingestion, the pages and endpoints under load, queries
# per request (issue 14, "Build" 1-4).
BENCHMARKS = {
    "month_end": "month_end.py",
    "ingest": "ingest.py",
    "load": "load.py",
    "queries": "queries.py",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the CI size: 10,000, one run")
    parser.add_argument("--customers", type=int, help="customers (default 100,000)")
    parser.add_argument("--runs", type=int, help="runs of each figure (default 3)")
    parser.add_argument("--only", help="comma-separated names: " + ", ".join(BENCHMARKS))
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    args.names = [name for name in BENCHMARKS if name in names]
    return args


def options(args: argparse.Namespace) -> list[str]:
    """The options every benchmark script takes (bench/common.py)."""
    given = ["--quick"] if args.quick else []
    if args.customers:
        given += ["--customers", str(args.customers)]
    if args.runs:
        given += ["--runs", str(args.runs)]
    return given + ["--results-dir", str(args.results_dir)]


def run_one(name: str, args: argparse.Namespace, env: dict[str, str]) -> tuple[int, dict | None]:
    """Run one benchmark, its output passed through; (exit status, its results document)."""
    print(f"\n== {name}", flush=True)
    command = [sys.executable, str(BENCH / BENCHMARKS[name]), *options(args)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    written = None
    for line in process.stdout:
        print(line, end="", flush=True)
        found = re.match(r"^results: (.+)$", line.strip())
        if found:
            written = Path(found.group(1))
    status = process.wait()
    doc = json.loads(written.read_text()) if written and written.exists() else None
    return status, doc


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = server_url() or DEFAULT_SERVER
    env = {**os.environ, "DATABASE_URL": server}
    print(f"Benchmarks on {server.rsplit('@', 1)[-1]}: {', '.join(args.names)}", flush=True)
    started = time.perf_counter()
    combined: dict = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "cpus": os.cpu_count(),
        "options": options(args)[:-2],
        "benchmarks": {},
    }
    failed = []
    for name in args.names:
        status, doc = run_one(name, args, env)
        combined["benchmarks"][name] = {"exit": status, "results": doc}
        if status != 0 or doc is None:
            failed.append(f"{name} (exit {status})")
    combined["seconds"] = round(time.perf_counter() - started, 1)
    print("\n== all figures\n")
    for name, entry in combined["benchmarks"].items():
        doc = entry["results"]
        if doc:
            print(render(doc.get("title", name), doc.get("rows", [])) + "\n")
    missed = [
        f"{name}: {line['figure']}"
        for name, entry in combined["benchmarks"].items()
        for line in (entry["results"] or {}).get("rows", [])
        if line.get("met") is False
    ]
    print(f"targets missed: {len(missed)}" + "".join(f"\n  {m}" for m in missed))
    print(f"results: {write_results('bench', combined, args.results_dir)}")
    print(f"took {combined['seconds']} s")
    if failed:
        print("FAILED: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
