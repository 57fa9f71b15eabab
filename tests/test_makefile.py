"""The Makefile finds a Python 3.12+ by itself, and says what to install when there is none."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")

pytestmark = pytest.mark.skipif(MAKE is None, reason="needs make")


def _fake_python(path: Path, version: str) -> None:
    path.write_text(
        "#!/bin/bash\n"
        f'if [[ "$*" == *"sys.version_info < (3, 12)"* ]]; then exit {int(version < "3.12")}; fi\n'
        f'echo "Python {version}"\n'
    )
    path.chmod(0o755)


def _failing_shim(path: Path) -> None:
    # What a pyenv shim does when its version is not selected.
    path.write_text("#!/bin/bash\necho 'pyenv: python3.12: command not found' >&2\nexit 127\n")
    path.chmod(0o755)


def _project_copy(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Makefile", "pyproject.toml", "uv.lock"):
        shutil.copy(ROOT / name, project / name)
    return project


def _make(project: Path, bin_dir: Path, *targets: str, **env) -> subprocess.CompletedProcess:
    environment = {
        "PATH": str(bin_dir),
        "HOME": str(project),
        "PYENV_ROOT": str(project / "no-pyenv"),
        **env,
    }
    return subprocess.run(
        [MAKE, "--no-print-directory", "-C", str(project), *targets],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_stops_with_a_message_when_no_python_312_exists(tmp_path):
    project = _project_copy(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_python(bin_dir / "python3", "3.11")
    _failing_shim(bin_dir / "python3.12")
    result = _make(project, bin_dir, "install")
    assert result.returncode != 0
    assert "Python 3.12 or newer is needed" in result.stderr
    assert "pyenv install 3.13" in result.stderr
    assert not (project / ".venv").exists()


def test_it_skips_failing_shims_and_finds_a_versioned_python(tmp_path):
    project = _project_copy(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_python(bin_dir / "python3", "3.11")
    _failing_shim(bin_dir / "python3.13")
    (bin_dir / "python3.12").symlink_to(sys.executable)
    result = _make(project, bin_dir, "python")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(bin_dir / "python3.12")


def test_it_finds_a_pyenv_version_when_nothing_is_on_path(tmp_path):
    project = _project_copy(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_python(bin_dir / "python3", "3.11")
    pyenv_bin = tmp_path / "pyenv" / "versions" / "3.12.9" / "bin"
    pyenv_bin.mkdir(parents=True)
    (pyenv_bin / "python3").symlink_to(sys.executable)
    result = _make(project, bin_dir, "python", PYENV_ROOT=str(tmp_path / "pyenv"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(pyenv_bin / "python3")


def _port_free() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_run_serves_with_a_worker_and_ctrl_c_stops_both(tmp_path):
    """`make run` starts the web server and the background worker (issue 12); Ctrl+C (SIGINT
    to the foreground group) stops both."""
    import os
    import signal
    import sqlite3
    import time
    import urllib.request

    port = _port_free()
    env = {
        **os.environ,
        "SQLITE_PATH": str(tmp_path / "run.sqlite3"),
        "PORT": str(port),
        "DEBUG": "1",
    }
    env.pop("DATABASE_URL", None)
    make = subprocess.Popen(
        [MAKE, "--no-print-directory", "-C", str(ROOT), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        served = workers = None
        while time.monotonic() < deadline and not (served and workers):
            time.sleep(0.5)
            assert make.poll() is None, make.stdout.read().decode()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
                    served = r.status
            except OSError:
                continue
            with sqlite3.connect(env["SQLITE_PATH"]) as db:
                workers = db.execute("SELECT pid FROM core_workerheartbeat").fetchall()
        assert served == 200
        [(worker_pid,)] = workers
        os.killpg(make.pid, signal.SIGINT)
        make.wait(timeout=30)
        with pytest.raises(ProcessLookupError):
            for _ in range(50):
                os.kill(worker_pid, 0)
                time.sleep(0.2)
        with sqlite3.connect(env["SQLITE_PATH"]) as db:  # it left cleanly: no heartbeat row
            assert db.execute("SELECT count(*) FROM core_workerheartbeat").fetchone() == (0,)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
