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
