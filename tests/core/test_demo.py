"""`make demo`'s runner (bureau/demo.py): a busy or bad port is said plainly before
anything starts; Ctrl-C stops what it started and says so. The end-to-end tests run
the real `python -m bureau.demo` (migrate, demo data, gunicorn, Celery worker and
beat) on the test database, its own embedded Redis and a free port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from bureau import demo
from tests.core.processes import database_env

ROOT = Path(__file__).resolve().parents[2]


def _listening() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def _bindable(port: int) -> bool:
    try:
        demo._bind("127.0.0.1", port)
    except OSError:
        return False
    return True


# -- units ----------------------------------------------------------------------


def test_stopped_message_names_everything_started_in_order():
    message = demo.stopped_message(
        ["web", "worker", "beat", "PostgreSQL", "Redis"], kept=[], killed=[]
    )
    assert message == "Stopped: web, worker, beat, PostgreSQL, Redis."


def test_stopped_message_says_what_runs_on_and_what_was_killed():
    message = demo.stopped_message(
        ["web", "worker", "beat"], kept=["PostgreSQL", "Redis"], killed=["worker"]
    )
    assert message.splitlines() == [
        "Stopped: web, worker (killed), beat.",
        "Still running: PostgreSQL and Redis, as before the demo (make stop stops "
        "them).",
    ]
    assert demo.stopped_message([], [], []) == "Nothing was started."


def test_check_port_free_when_port_busy_names_it_and_a_free_one():
    with _listening() as busy:
        port = busy.getsockname()[1]
        with pytest.raises(demo.DemoError) as caught:
            demo.check_port_free("127.0.0.1", port)
        message = str(caught.value)
        assert message.startswith(f"port {port} on 127.0.0.1 is in use")
        suggested = int(message.rsplit("BUREAU_DEMO_PORT=", 1)[1].split()[0])
        assert message.endswith(f"BUREAU_DEMO_PORT={suggested} make demo")
        assert suggested != port and _bindable(suggested)


def test_check_port_free_when_port_free_passes():
    with _listening() as probe:
        port = probe.getsockname()[1]
    demo.check_port_free("127.0.0.1", port)  # closed again: free


@pytest.mark.parametrize("value", ["abc", "0", "70000", "-1", "80.5"])
def test_configured_port_when_not_a_port_says_so(monkeypatch, value):
    monkeypatch.setenv("BUREAU_DEMO_PORT", value)
    with pytest.raises(demo.DemoError, match="is not a port number"):
        demo.configured_port()


def test_configured_port_default_and_set(monkeypatch):
    monkeypatch.delenv("BUREAU_DEMO_PORT", raising=False)
    assert demo.configured_port() == 8000
    monkeypatch.setenv("BUREAU_DEMO_PORT", "8123")
    assert demo.configured_port() == 8123


# -- the real runner ------------------------------------------------------------------


def _demo_env(data_dir: str, port: int, *, with_database: bool) -> dict[str, str]:
    """The demo on its own data directory: Redis embedded there (started and
    stopped by the demo), PostgreSQL the test database."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("REDIS_URL", "DATABASE_URL", "PGHOST")
        and not name.startswith("PYTEST")
    }
    env.update(BUREAU_DATA_DIR=data_dir, BUREAU_DEMO_PORT=str(port))
    if with_database:
        env.update(database_env())
    return env


def test_demo_when_port_busy_says_so_and_starts_nothing():
    data_dir = tempfile.mkdtemp(prefix="bd-")
    try:
        with _listening() as busy:
            port = busy.getsockname()[1]
            started = time.monotonic()
            process = subprocess.Popen(
                [sys.executable, "-m", "bureau.demo"],
                cwd=ROOT,
                env=_demo_env(data_dir, port, with_database=False),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            try:
                stdout, stderr = process.communicate(timeout=60)
            finally:
                if process.poll() is None:  # it went on: stop all it started
                    os.killpg(process.pid, signal.SIGINT)
                    process.communicate(timeout=60)
        assert process.returncode == 2, stderr
        assert "Traceback" not in stderr + stdout
        first = stderr.strip().splitlines()[0]
        assert first.startswith(f"demo: port {port} on 127.0.0.1 is in use")
        assert "choose another with BUREAU_DEMO_PORT=" in first
        assert first.endswith(" make demo")
        assert os.listdir(data_dir) == []  # no PostgreSQL, no Redis, no logs
        assert time.monotonic() - started < 30
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _process_group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


class _Output:
    """The demo's output as it comes, read by a thread (the pipe never fills)."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"no {needle!r} from the demo:\n{self.text}")
            time.sleep(0.2)


def _stop_leftover_redis(data_dir: Path) -> None:
    """The demo's own Redis (never the suite's: that one lives elsewhere)."""
    pid = demo.embedded._read_pid(data_dir / "redis" / "redis.pid")
    if pid is not None and demo.embedded._pid_alive(pid):
        os.kill(pid, signal.SIGTERM)


@pytest.mark.slow
@pytest.mark.real_clock
def test_demo_runs_then_ctrl_c_stops_everything_it_started_and_says_so(
    transactional_db,
):
    data_dir = tempfile.mkdtemp(prefix="bd-")  # short: Redis's socket path
    with _listening() as probe:
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "bureau.demo"],
        cwd=ROOT,
        env=_demo_env(data_dir, port, with_database=True),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own group, as a terminal's foreground job
    )
    output = _Output(process)
    try:
        output.wait_for("Ctrl-C stops the demo.", timeout=240)
        assert "Bureau demo is running." in output.text
        assert f"http://127.0.0.1:{port}/" in output.text
        redis_pid = int((Path(data_dir) / "redis" / "redis.pid").read_text())
        # Ctrl-C in a terminal: SIGINT to the whole foreground process group.
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
        output.thread.join(timeout=10)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        _stop_leftover_redis(Path(data_dir))  # only if the demo failed to
        shutil.rmtree(data_dir, ignore_errors=True)
    assert process.returncode == 0, output.text
    assert "Traceback" not in output.text
    assert output.lines[-1].strip() == "Stopped: web, worker, beat, Redis.", output.text
    assert not _process_group_alive(process.pid)  # web, worker and beat: gone
    assert not demo.embedded._pid_alive(redis_pid)
    assert _bindable(port)
