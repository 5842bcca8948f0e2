"""Where browser tests put their screenshots: never over a tracked file, so that
`make test` leaves `git status` clean; `make screenshots` refreshes the README's."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.web.conftest import screenshot

ROOT = Path(__file__).resolve().parents[2]

PNG = b"\x89PNG\r\n\x1a\n" + b"test"


class _Page:
    """What `screenshot` asks of a Playwright page: write the picture to `path`."""

    def screenshot(self, *, path: str, full_page: bool) -> None:
        Path(path).write_bytes(PNG)


def _git(*args: str) -> subprocess.CompletedProcess:
    if not shutil.which("git") or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
    )


def test_screenshot_by_default_lands_in_an_ignored_place(monkeypatch):
    monkeypatch.delenv("BUREAU_SCREENSHOTS", raising=False)
    before = _git("status", "--porcelain", "--untracked-files=all").stdout
    path = screenshot(_Page(), "placement-check")
    try:
        assert path.read_bytes() == PNG
        relative = str(path.relative_to(ROOT))
        assert _git("check-ignore", "-q", relative).returncode == 0, relative
        assert _git("ls-files", "--", str(path.parent)).stdout == ""
        after = _git("status", "--porcelain", "--untracked-files=all").stdout
        assert after == before
    finally:
        path.unlink()


def test_screenshot_goes_where_bureau_screenshots_says(monkeypatch, tmp_path):
    monkeypatch.setenv("BUREAU_SCREENSHOTS", str(tmp_path / "shots"))
    path = screenshot(_Page(), "placement-check")
    assert path == tmp_path / "shots" / "placement-check.png"
    assert path.read_bytes() == PNG
