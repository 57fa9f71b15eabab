"""The desk under concurrency beside a trivial view of the same server (issue 14, "Build" 3):
wrk against gunicorn on a data set of 100,000+ bills the benchmark makes in its own database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/load.py
    python bench/load.py --quick                      # 10,000 customers, one 5 s run: CI
    python bench/load.py --customers 100000 --runs 3 --seconds 20

The data set is bench/month_end_sql.py's (N customers x 24 months) with the raw-SQL month end
run for the last three ended months (about 1.3 bills per customer; the oldest month's bills
that need one approval are approved). Gunicorn serves it with one configuration for every
figure (--workers, --threads); wrk (bench/load.lua) holds --connections connections for
--seconds per figure and run, cycling ids, and counts responses by status: requests per
second count the 2xx answers only, anything else (a 409 of an approve) is reported apart.

Figures: the dashboard (a Finance session cookie), GET /api/bills?page_size=50, a bill page
(/bills/<id>), single-row POST /api/usage and PATCH /api/bills/<id>/approve (Sales, over
drafts not yet decided, no version: the bill as it is). Reference: GET /api/session with a
bearer token (authentication and one query: the floor of the stack); GET /health/live (no
database) is shown too. Exit status as bench/common.py says: 1 when a figure's first request
is not a 2xx (the benchmark would measure errors), 2 without DATABASE_URL, 3 without wrk.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402 (bench/ is not a package)
    RESULTS,
    ROOT,
    child_env,
    render,
    row,
    scratch_database,
    server_url,
    setup_django,
    spread,
    write_results,
)

TARGET_CUSTOMERS = 100_000
TARGET_WRITE_SHARE = 0.5  # usage POSTs and approves: at least half the trivial view's rate
TARGET_LIST_SHARE = 0.25  # dashboard and GET /api/bills: a quarter of it, and p99 < 100 ms
TARGET_LIST_P99_MS = 100.0
BILLED_MONTHS = 3
LUA = ROOT / "bench" / "load.lua"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    cpus = os.cpu_count() or 2
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, help="customers (default 100,000; quick 10,000)")
    parser.add_argument("--runs", type=int, help="runs of each figure (default 3; quick 1)")
    parser.add_argument("--quick", action="store_true", help="the CI size: 10,000, one 5 s run")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument("--seconds", type=int, help="per figure and run (default 20; quick 5)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2 * cpus, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per process")
    args = parser.parse_args(argv)
    args.customers = args.customers or (10_000 if args.quick else TARGET_CUSTOMERS)
    args.runs = args.runs or (1 if args.quick else 3)
    args.seconds = max(1, args.seconds or (5 if args.quick else 20))
    return args


def make_data(customers: int) -> dict:
    """Fill the (migrated) database; returns the users, periods and ids the figures use."""
    import month_end_sql as sql
    from django.conf import settings
    from django.db import connection

    from accounts.models import Role, User
    from billing_site.core import periods

    year, month = periods.last_ended_month()
    finance = User.objects.create_user(name="bench-finance", role=Role.FINANCE, password="x" * 16)
    sales = User.objects.create_user(name="bench-sales", role=Role.SALES, password="x" * 16)
    months = []
    with connection.cursor() as cursor:
        sql.fill(cursor, customers=customers, year=year, month=month)
        for back in range(BILLED_MONTHS):
            y, m = divmod(year * 12 + month - 1 - back, 12)
            months.append((y, m + 1))
            sql.floor_insert(cursor, year=y, month=m + 1, user=finance, currency=settings.CURRENCY)
        oldest = months[-1]
        cursor.execute(
            "UPDATE bills_bill SET status = 'approved', sales_approved_by_id = %s, "
            "sales_approved_at = now(), version = 2 "
            "WHERE year = %s AND month = %s AND NOT requires_csm_approval",
            [sales.pk, *oldest],
        )
        cursor.execute("VACUUM ANALYZE bills_bill")
        cursor.execute("VACUUM ANALYZE bills_billaction")
        cursor.execute("SELECT id, status FROM bills_bill ORDER BY id")
        bills = cursor.fetchall()
    return {
        "finance": finance,
        "sales": sales,
        "months": [f"{y}-{m:02d}" for y, m in months],
        "bill_ids": [pk for pk, _ in bills],
        "draft_ids": [pk for pk, status in bills if status == "draft"],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(base: str, method: str, path: str, *, headers: dict, body: str = "") -> tuple[int, list]:
    """One request: (status, its Set-Cookie headers)."""
    data = body.encode() if body else None
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            return response.status, response.headers.get_all("Set-Cookie") or []
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_all("Set-Cookie") or []


@contextlib.contextmanager
def gunicorn(url: str, args: argparse.Namespace, static_root: str):
    """Run gunicorn on the bench database; yields its base URL once /health/live answers."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("gunicorn")), "billing_site.wsgi"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)]
    command += ["--threads", str(args.threads), "--timeout", "120", "--log-level", "warning"]
    env = {**child_env(url), "ALLOWED_HOSTS": "127.0.0.1", "STATIC_ROOT": static_root}
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(OSError):
                if http(base, "GET", "/health/live", headers={})[0] == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError("gunicorn did not start:\n" + log.read().decode()[-3000:])
            time.sleep(0.2)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def session_cookie(base: str, name: str) -> str:
    """Log `name` in through POST /api/session; returns the Cookie header's value."""
    body = json.dumps({"name": name, "password": "x" * 16})
    headers = {"Content-Type": "application/json"}
    status, cookies = http(base, "POST", "/api/session", headers=headers, body=body)
    sessionid = [c.split(";")[0] for c in cookies if c.startswith("sessionid=")]
    if status != 200 or not sessionid:
        raise RuntimeError(f"POST /api/session answered {status} with cookies {cookies}")
    return sessionid[0]


def figures(data: dict, cookie: str, workdir: Path) -> list[dict]:
    """What wrk requests for each figure: kind "reference", "floor", "write", "list", "page"."""
    from billing_site.core import periods

    finance = f"Bearer {data['finance'].session_token}"
    sales = f"Bearer {data['sales'].session_token}"
    year, month = periods.today().year, periods.today().month
    customers = workdir / "customers.txt"
    customers.write_text("\n".join(map(str, range(1, data["customers"] + 1))) + "\n")
    pages = workdir / "bills.txt"
    sample = random.Random(14).sample(data["bill_ids"], min(10_000, len(data["bill_ids"])))
    pages.write_text("\n".join(map(str, sample)) + "\n")
    usage = json.dumps({"customer_id": 0, "year": year, "month": month, "api_usage": 1000})
    json_type = "Content-Type: application/json"
    return [
        dict(key="session", label="GET /api/session (bearer)", kind="reference",
             method="GET", path="/api/session", headers=f"Authorization: {finance}"),
        dict(key="live", label="GET /health/live (no database)", kind="floor",
             method="GET", path="/health/live", headers=""),
        dict(key="dashboard", label="dashboard (Finance session)", kind="list",
             method="GET", path="/dashboard", headers=f"Cookie: {cookie}"),
        dict(key="api_bills", label="GET /api/bills?page_size=50", kind="list",
             method="GET", path="/api/bills?page_size=50", headers=f"Authorization: {finance}"),
        dict(key="bill_page", label="bill page /bills/<id>", kind="page", method="GET",
             path="/bills/{id}", ids=str(pages), headers=f"Cookie: {cookie}"),
        dict(key="usage_post", label="POST /api/usage, one row", kind="write", method="POST",
             path="/api/usage", body=usage.replace('"customer_id": 0', '"customer_id": {id}'),
             ids=str(customers), headers=f"Authorization: {finance}\n{json_type}"),
        dict(key="approve", label="PATCH /api/bills/<id>/approve (Sales)", kind="write",
             method="PATCH", path="/api/bills/{id}/approve", body="{}", ids="approve",
             headers=f"Authorization: {sales}\n{json_type}"),
    ]  # fmt: skip


def run_wrk(base: str, figure: dict, args: argparse.Namespace, seconds: int) -> dict:
    """One wrk run of `figure` for whole `seconds` (wrk takes no fractions); returns
    bench/load.lua's LOAD_RESULT."""
    threads = min(2, args.connections)
    env = {
        **os.environ,
        "LOAD_METHOD": figure["method"],
        "LOAD_PATH": figure["path"],
        "LOAD_BODY": figure.get("body", ""),
        "LOAD_IDS": figure.get("ids", ""),
        "LOAD_HEADERS": figure["headers"],
        "LOAD_THREADS": str(threads),
    }
    command = ["wrk", f"-t{threads}", f"-c{args.connections}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", "30s", "-s", str(LUA), base]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    for line in done.stdout.splitlines():
        if line.startswith("LOAD_RESULT "):
            return json.loads(line.removeprefix("LOAD_RESULT "))
    raise RuntimeError(f"wrk said nothing usable:\n{done.stdout}\n{done.stderr}")


def first_request(base: str, figure: dict) -> int:
    """The status of one request of `figure` (with its first id), before wrk runs it."""
    ids = Path(figure["ids"]).read_text().split() if figure.get("ids") else ["0"]
    headers = dict(line.split(": ", 1) for line in figure["headers"].splitlines())
    path, body = figure["path"].replace("{id}", ids[0]), figure.get("body", "")
    return http(base, figure["method"], path, headers=headers, body=body.replace("{id}", ids[0]))[0]


def measure(args: argparse.Namespace, url: str, workdir: Path) -> dict:
    """Make the data, start gunicorn, run every figure args.runs times (interleaved, so a
    noisy moment spreads over all of them). Returns the results document."""
    from django.core.management import call_command

    begin = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    data = make_data(args.customers)
    data["customers"] = args.customers
    setup = time.perf_counter() - begin
    doc: dict = {
        "title": "load",
        "customers": args.customers,
        "bills": len(data["bill_ids"]),
        "billed_months": data["months"],
        "runs": args.runs,
        "seconds": args.seconds,
        "connections": args.connections,
        "gunicorn": {"workers": args.workers, "threads": args.threads, "worker_class": "gthread"},
        "cpus": os.cpu_count(),
        "quick": args.quick,
        "setup_seconds": round(setup, 1),
        "figures": {},
    }
    drafts = data["draft_ids"]
    with gunicorn(url, args, os.environ["STATIC_ROOT"]) as base:
        specs = figures(data, session_cookie(base, "bench-finance"), workdir)
        # Each approve run takes its own slice of the drafts (the first one is the check's).
        per_run = (len(drafts) - 1) // args.runs
        for figure in specs:
            doc["figures"][figure["key"]] = {**figure, "runs": []}
            if figure.get("ids") == "approve":
                figure["ids"] = str(workdir / "approve-check.txt")
                Path(figure["ids"]).write_text(f"{drafts[0]}\n")
            status = first_request(base, figure)
            if not 200 <= status < 300:
                doc["failed"] = f"{figure['label']}: the first request answered {status}"
                return doc
        for figure in specs:  # warm every worker's templates and connections; not counted
            if figure["method"] == "GET":
                run_wrk(base, figure, args, 1)
        for run in range(args.runs):
            for figure in specs:
                if figure["key"] == "approve":
                    figure["ids"] = str(workdir / f"approve-{run}.txt")
                    mine = drafts[1 + run * per_run : 1 + (run + 1) * per_run]
                    Path(figure["ids"]).write_text("\n".join(map(str, mine)) + "\n")
                result = run_wrk(base, figure, args, args.seconds)
                doc["figures"][figure["key"]]["runs"].append(result)
    return doc


def _rates(runs: list[dict]) -> tuple[list[float], list[float], list[float], int, int]:
    """(2xx per second, p50 ms, p99 ms) of each run, and the non-2xx answers and socket
    errors over all runs."""
    ok = [sum(n for s, n in r["statuses"].items() if s.startswith("2")) for r in runs]
    rps = [n / (r["duration_us"] / 1e6) for n, r in zip(ok, runs, strict=True)]
    other = sum(n for r in runs for s, n in r["statuses"].items() if not s.startswith("2"))
    errors = sum(sum(r["socket_errors"].values()) for r in runs)
    p50, p99 = [r["p50_us"] / 1000 for r in runs], [r["p99_us"] / 1000 for r in runs]
    return rps, p50, p99, other, errors


def table(doc: dict) -> tuple[str, list[dict]]:
    """The printed table and its rows (common.row): requests per second (2xx only), p50 and
    p99; each figure's ratio is its median rate over the reference's."""
    figures = doc["figures"]
    ref_rps, _, _, _, _ = _rates(figures["session"]["runs"])
    ref = statistics.median(ref_rps)
    rows = []
    for figure in figures.values():
        rps, p50, p99, other, errors = _rates(figure["runs"])
        med, p99_med = statistics.median(rps), statistics.median(p99)
        measured = f"{spread(rps, 'req/s', 0)}; p50 {statistics.median(p50):.0f} ms, "
        measured += f"p99 {p99_med:.0f} ms"
        codes = {s: sum(r["statuses"].get(s, 0) for r in figure["runs"]) for s in _codes(figure)}
        if other or errors:
            measured += f"; non-2xx {other} {codes}"
            measured += f", socket errors {errors}" if errors else ""
        kind, target, met = figure["kind"], "", None
        if kind == "write":
            target = f">= {TARGET_WRITE_SHARE:g}x the reference"
            met = med >= TARGET_WRITE_SHARE * ref
        elif kind == "list":
            target = f"p99 < {TARGET_LIST_P99_MS:g} ms, >= {TARGET_LIST_SHARE:g}x the reference"
            met = p99_med < TARGET_LIST_P99_MS and med >= TARGET_LIST_SHARE * ref
        rows.append(
            row(
                figure["label"],
                measured,
                reference="" if kind == "reference" else f"{ref:.0f} req/s (GET /api/session)",
                ratio="" if kind == "reference" else f"{med / ref:.2f}x",
                target=target,
                met=met,
            )
        )
    title = (
        f"Under load on PostgreSQL: {doc['customers']:,} customers, {doc['bills']:,} bills; "
        f"gunicorn {doc['gunicorn']['workers']} workers x {doc['gunicorn']['threads']} threads; "
        f"wrk {doc['connections']} connections, {doc['seconds']:g} s each, median of "
        f"{doc['runs']} run(s) (min, max); {doc['cpus']} CPUs; set-up {doc['setup_seconds']} s"
    )
    return render(title, rows), rows


def _codes(figure: dict) -> list[str]:
    return sorted({s for r in figure["runs"] for s in r["statuses"] if not s.startswith("2")})


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = server_url()
    if server is None:
        print("bench/load.py needs DATABASE_URL=postgres://... (a server)", file=sys.stderr)
        return 2
    if shutil.which("wrk") is None:
        print("bench/load.py needs wrk (apt-get install wrk)", file=sys.stderr)
        return 3
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        os.environ["STATIC_ROOT"] = str(Path(tmp) / "static")
        with scratch_database(server, "load") as url:
            setup_django(url)
            doc = measure(args, url, Path(tmp))
    if "failed" in doc:
        print(f"bench/load.py: {doc['failed']}", file=sys.stderr)
        write_results("load", doc, args.results_dir)
        return 1
    text, rows = table(doc)
    doc["title"], doc["rows"] = text.splitlines()[0], rows
    print(text)
    path = write_results("load", doc, args.results_dir)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
