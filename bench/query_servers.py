"""Query benchmark, the server side: gunicorn in a subprocess, the CPU its
processes and PostgreSQL's backends use, and the machine's speed reference."""

from __future__ import annotations

import contextlib
import http.client
import socket
import subprocess
import sys
import time

from common import OUT, ROOT, stop_process


def python_speed_ms() -> float:
    """Milliseconds for a fixed pure-Python loop, best of three: this machine's
    speed at the time. Shared cloud machines vary by a third from minute to
    minute; compare figures taken at similar speeds."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.perf_counter() - start)
    return best * 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, workers: int, threads: int, env: dict[str, str]):
        self.port = free_port()
        self._log = open(OUT / "gunicorn.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bureau.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> int:
        """Wait for any HTTP answer from /healthz (503 without a Celery worker)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {OUT / 'gunicorn.log'}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                status = conn.getresponse().status
                conn.close()
                return status
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz")

    def cpu_seconds(self) -> float:
        return _tree_cpu(self.process.pid)

    def stop(self) -> None:
        stop_process(self.process)
        self._log.close()


def _tree_cpu(pid: int) -> float:
    import psutil

    try:
        proc = psutil.Process(pid)
        total = sum(proc.cpu_times()[:2])
        for child in proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += sum(child.cpu_times()[:2])
        return total
    except psutil.Error:
        return 0.0


def postgres_cpu(database: str) -> float:
    """CPU seconds of the server's backends for `database` (bench connections)."""
    import psutil

    total = 0.0
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or ())
        if cmdline.startswith("postgres:") and f" {database} " in cmdline:
            with contextlib.suppress(psutil.Error):
                total += sum(proc.cpu_times()[:2])
    return total
