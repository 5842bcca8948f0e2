"""The README's API quick start, as a newcomer pastes it right after `make demo`.

The block marked `<!-- quick start -->` in README.md is cut into its commands
(the way bash reads them: a command ends where it parses whole), which run in
order in one bash, with the README's own variables, against a live server on the
test database and a real Celery worker, after the demo data (`seed_demo`). The
first command that fails (or exits other than its `# exits N` comment says) fails
the test, shown with its output. Each `curl` must fail on an HTTP error, or a 404
would pass unseen. Every file the block leaves must be ignored by git.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.core.processes import database_env

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- quick start"
EXPECTED_EXIT = re.compile(r"#\s*exits (\d+)\b")
PERSONS_COMMAND = re.compile(r"\.venv/bin/python manage\.py demo_persons[^|)\"]*")

pytestmark = [pytest.mark.celery_worker, pytest.mark.real_clock]


def quickstart_block(readme: str) -> str:
    """The ```sh block right after the marker line."""
    assert MARKER in readme, f"README.md has no {MARKER} … --> marker"
    after = readme.split(MARKER, 1)[1].split("\n", 1)[1]
    match = re.match(r"\s*```sh\n(.*?)^```", after, re.S | re.M)
    assert match, "the quick start marker is not followed by a ```sh block"
    return match.group(1)


def _parses(text: str) -> bool:
    check = subprocess.run(["bash", "-n"], input=text, text=True, capture_output=True)
    return check.returncode == 0


def split_commands(block: str) -> list[str]:
    """Complete commands, in order; comment and blank lines between them dropped."""
    commands: list[str] = []
    pending: list[str] = []
    for line in block.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending.append(line)
        if line.rstrip().endswith(("\\", "|", "&&", "||")):
            continue
        if _parses("\n".join(pending)):
            commands.append("\n".join(pending))
            pending = []
    assert not pending, "an incomplete command ends the block:\n" + "\n".join(pending)
    return commands


def expected_exit(command: str) -> int:
    found = EXPECTED_EXIT.search(command.splitlines()[-1])
    return int(found.group(1)) if found else 0


def script(commands: list[str]) -> str:
    """One bash script: a marker before and after each command; the first that
    exits otherwise than expected ends it."""
    lines = ["set -o pipefail"]
    for n, command in enumerate(commands):
        lines += [
            f"echo '::quickstart {n}::'",
            command,
            f"rc=$?; [ $rc -eq {expected_exit(command)} ] || {{ "
            f"echo '::quickstart failed {n}::' $rc; exit 100; }}",
        ]
    return "\n".join(lines) + "\n"


def _workdir(tmp_path: Path) -> Path:
    """A directory like the repository's root for the README's relative paths, so
    that the run neither writes into the checkout nor reads a reader's files."""
    work = tmp_path / "checkout"
    work.mkdir()
    (work / ".venv").symlink_to(Path(sys.prefix))
    for name in ("manage.py", "bureau_client.py"):
        (work / name).symlink_to(ROOT / name)
    return work


def run_quickstart(commands: list[str], work: Path, port: int):
    env = {
        name: value
        for name, value in os.environ.items()
        if "proxy" not in name.lower()
        and not name.startswith(("BUREAU_URL", "BUREAU_API_KEY", "PYTHON"))
    }
    env.update(database_env(), BUREAU_DEMO_PORT=str(port))
    return subprocess.run(
        ["bash", "-c", script(commands)],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        check=False,
    )


def _failure(commands: list[str], output: str) -> str:
    failed = re.search(r"::quickstart failed (\d+):: (\d+)", output)
    if failed is None:
        return "the quick start did not finish:\n" + output[-3000:]
    n, rc = int(failed.group(1)), failed.group(2)
    said = output.split(f"::quickstart {n}::", 1)[1].split("::quickstart failed")[0]
    return (
        f"README quick start, command {n + 1} of {len(commands)} exited {rc} "
        f"(expected {expected_exit(commands[n])}):\n{commands[n]}\n"
        f"--- its output ---\n{said.strip()[-3000:]}"
    )


def _shown_by_git_status(work: Path) -> list[str]:
    """Files the block left, each as if written at the checkout's root, that git
    would show in `git status`."""
    left = [
        str(path.relative_to(work))
        for path in sorted(work.rglob("*"))
        if path.is_file() and not path.is_symlink() and ".venv" not in path.parts
    ]
    return [
        name
        for name in left
        if subprocess.run(
            ["git", "-C", str(ROOT), "check-ignore", "-q", name]
        ).returncode
    ]


def test_every_curl_in_the_quick_start_fails_on_http_errors():
    commands = split_commands(quickstart_block((ROOT / "README.md").read_text()))
    assert len(commands) >= 8, commands
    for command in commands:
        if re.search(r"\bcurl\b", command):
            assert re.search(r"--fail-with-body|--fail\b|\s-\w*f", command), command


@pytest.mark.skipif(not shutil.which("curl"), reason="curl not installed")
def test_readme_quickstart_runs_as_written_right_after_the_demo(
    celery_worker, live_server, tmp_path, monkeypatch
):
    # `make demo` writes the password into .env; a fresh clone has none.
    monkeypatch.setenv("BUREAU_DEMO_PASSWORD", "quickstart-demo-password")
    call_command("seed_demo", verbosity=0)  # what `make demo` made: batches 1-3 …
    commands = split_commands(quickstart_block((ROOT / "README.md").read_text()))
    work = _workdir(tmp_path)
    port = int(live_server.url.rsplit(":", 1)[1])

    result = run_quickstart(commands, work, port)

    assert result.returncode == 0, _failure(commands, result.stdout)
    assert (work / "report.pdf").read_bytes().startswith(b"%PDF")
    assert (work / "acme.csv.errors.csv").read_text("utf-8-sig").startswith("row,")
    if shutil.which("git") and (ROOT / ".git").exists():
        assert _shown_by_git_status(work) == [], "git status would show these"
