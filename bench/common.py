"""What every benchmark of `make bench` shares (issue 14): its own PostgreSQL database, Django set
up on it, peak memory, median/min/max and the printed table of figure | measured | reference |
ratio | target | met, and the results file.

Each benchmark is a script (bench/month_end.py, bench/ingest.py, bench/load.py, ...) taking
--quick, --customers, --runs and --results-dir, run in its own process by bench/run.py
(`make bench`). It prints its table and writes bench/results/<name>-<time>.json holding
{"title": str, "rows": [row, ...], ...}, a row being {"figure", "measured", "reference", "ratio",
"target", "met"} (strings; met True / False / None for "not applicable at this size"). It exits
0 when it ran (missed targets are in the table), 1 when its references disagree with what it
measured, 2 without a usable DATABASE_URL.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The environment every benchmark runs Django with (a throwaway database, no mail out).
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "billing_site.settings",
    "SECRET_KEY": "bench-only-insecure-key-0123456789abcdefghijklmnop",
    "DEBUG": "0",
    "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "LOG_LEVEL": "WARNING",
}


def server_url() -> str | None:
    """DATABASE_URL when it names a PostgreSQL server, else None."""
    url = os.environ.get("DATABASE_URL", "").strip()
    return url if url.startswith(("postgres://", "postgresql://")) else None


def with_database(url: str, name: str) -> str:
    """`url` with its database path replaced by `name`."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def server_do(url: str, sql: str) -> None:
    """Run one statement in autocommit on the server's "postgres" database."""
    import psycopg

    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


@contextlib.contextmanager
def scratch_database(server: str, tag: str) -> Iterator[str]:
    """Create billing_bench_<tag>_<pid> on `server`, yield its URL, drop it afterwards (also on
    error, forcing other connections off)."""
    name = f"billing_bench_{tag}_{os.getpid()}"
    server_do(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    server_do(server, f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server, name)
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        server_do(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(url: str) -> None:
    """Point the settings at `url` (BENCH_ENV for the rest) and set Django up. Once per
    process: each benchmark runs in its own (bench/run.py starts them)."""
    import django

    os.environ["DATABASE_URL"] = url
    for key, value in BENCH_ENV.items():
        os.environ.setdefault(key, value)
    django.setup()


def child_env(url: str) -> dict[str, str]:
    """The environment for a server process (gunicorn, a worker) on the bench database."""
    env = {**os.environ, **{k: os.environ.get(k, v) for k, v in BENCH_ENV.items()}}
    env["DATABASE_URL"] = url
    env["PYTHONPATH"] = str(ROOT)
    return env


def peak_reset() -> str:
    """Start a new peak-RSS window; returns the method ("VmHWM" when the kernel can reset the
    high-water mark through /proc/self/clear_refs, else "ru_maxrss", the process's peak)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return "VmHWM"
    except OSError:
        return "ru_maxrss"


def peak_mb(method: str) -> float:
    """The peak resident memory in MB (MiB) since peak_reset (VmHWM) or since the start."""
    if method == "VmHWM":
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def spread(values: list[float], unit: str, places: int = 2) -> str:
    """The median, min and max of `values`, as "1.23 s (1.20, 1.31)"."""
    med = statistics.median(values)
    return f"{med:.{places}f} {unit} ({min(values):.{places}f}, {max(values):.{places}f})"


def row(
    figure: str,
    measured: str,
    *,
    reference: str = "",
    ratio: str = "",
    target: str = "",
    met: bool | None = None,
) -> dict:
    """One line of a benchmark's table (module docstring)."""
    return {
        "figure": figure,
        "measured": measured,
        "reference": reference,
        "ratio": ratio,
        "target": target,
        "met": met,
    }


def render(title: str, rows: list[dict]) -> str:
    """A benchmark's table as Markdown, its title above."""
    lines = [
        title,
        "",
        "| figure | measured (median, min, max) | reference | ratio | target | met? |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for line in rows:
        met = {True: "yes", False: "NO", None: "n/a"}[line["met"]]
        cells = [line[k] for k in ("figure", "measured", "reference", "ratio", "target")]
        lines.append("| " + " | ".join(cells) + f" | {met} |")
    return "\n".join(lines)


def write_results(name: str, doc: dict, results_dir: Path = RESULTS) -> Path:
    """Write `doc` as bench/results/<name>-<time>.json (gitignored); returns the path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{name}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return path
