"""The Python versions Bureau supports: one, said alike by the Makefile, the
package metadata and the image, and checked by `make` before it makes a virtualenv
(a wrong PYTHON, or a .venv made by another version, stops with what to do)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUPPORTED = "3.11"

pytestmark = pytest.mark.skipif(not shutil.which("make"), reason="make not installed")


def _fake_python(tmp_path: Path, version: str, name: str = "python") -> Path:
    """A 'python' that answers the Makefile's version question with `version`."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path


def _check(tmp_path: Path, python: str, venv: Path | None = None):
    return subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(ROOT), "python-check",
         f"PYTHON={python}", f"VENV={venv or tmp_path / 'no-venv'}"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def test_versions_are_said_alike_in_makefile_pyproject_and_image():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(rf"^SUPPORTED_PYTHON := {re.escape(SUPPORTED)}$", makefile, re.M)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    major, minor = SUPPORTED.split(".")
    assert project["requires-python"] == f">={SUPPORTED},<{major}.{int(minor) + 1}"
    assert f"FROM python:{SUPPORTED}-" in (ROOT / "Dockerfile").read_text()
    assert f"Python {SUPPORTED}" in (ROOT / "README.md").read_text()


def test_check_when_python_is_the_supported_version_passes(tmp_path):
    assert sys.version_info[:2] == (3, 11), "the suite itself runs on 3.11"
    result = _check(tmp_path, sys.executable)
    assert result.returncode == 0, result.stderr
    assert result.stdout == result.stderr == ""


@pytest.mark.parametrize("version", ["3.10", "3.12", "2.7"])
def test_check_when_python_is_another_version_refuses_saying_what_to_do(
    tmp_path, version
):
    fake = _fake_python(tmp_path, version)
    result = _check(tmp_path, str(fake))
    assert result.returncode != 0
    assert f"{fake} is Python {version}; Bureau needs Python {SUPPORTED}" in (
        result.stderr
    )
    assert f"PYTHON=/path/to/python{SUPPORTED}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "no-venv").exists()  # nothing made


def _real_python(minor: int) -> str | None:
    """A working Python 3.<minor>: on PATH (a pyenv shim may not run) or in pyenv."""
    candidates = [shutil.which(f"python3.{minor}")]
    candidates += sorted(Path.home().glob(f".pyenv/versions/3.{minor}.*/bin/python3"))
    for candidate in filter(None, candidates):
        probe = subprocess.run([str(candidate), "-V"], capture_output=True, check=False)
        if probe.returncode == 0:
            return str(candidate)
    return None


def test_check_when_a_real_python_3_12_is_given_refuses(tmp_path):
    other = _real_python(12)
    if other is None:
        pytest.skip("no Python 3.12 on this machine")
    result = _check(tmp_path, other)
    assert result.returncode != 0
    assert f"is Python 3.12; Bureau needs Python {SUPPORTED}" in result.stderr


def test_check_when_python_is_missing_says_so(tmp_path):
    result = _check(tmp_path, "python3.11-nowhere")
    assert result.returncode != 0
    assert "python3.11-nowhere not found: Bureau needs Python 3.11" in result.stderr


def test_check_when_venv_was_made_by_another_version_says_to_remove_it(tmp_path):
    venv = tmp_path / "venv"
    _fake_python(venv / "bin", "3.12")
    result = _check(tmp_path, sys.executable, venv=venv)
    assert result.returncode != 0
    assert f"{venv} was made with Python 3.12" in result.stderr
    assert f"rm -rf {venv}" in result.stderr
