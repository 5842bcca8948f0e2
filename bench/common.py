"""Shared set-up for benchmarks: a fresh database on the configured server, the
embedded services when no URLs are given, and a Celery worker subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

_STARTED = time.perf_counter()


def log(message: str) -> None:
    """A progress line on stderr, stamped with the seconds since the start."""
    elapsed = time.perf_counter() - _STARTED
    print(f"[{elapsed:6.1f} s] {message}", file=sys.stderr, flush=True)


def load_dotenv() -> None:
    from bureau.devenv import ENV_FILE, ensure_dev_env

    ensure_dev_env()
    for line in ENV_FILE.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            name, value = line.split("=", 1)
            os.environ.setdefault(name.strip(), value.strip())


def fresh_database(name: str, *, keep: bool = False) -> str:
    """Drop and create database `name` on the configured server (or, with `keep`,
    leave it as it is); return its URL."""
    import psycopg

    from bureau import embedded

    url = os.environ.get("DATABASE_URL")
    if url:
        base, _, _ = url.rpartition("/")
        admin_url, bench_url = f"{base}/postgres", f"{base}/{name}"
        conninfo = admin_url
    else:
        embedded.ensure_postgres()
        socket_dir = str(embedded.PG_DIR)
        bench_url = f"postgres://postgres@/{name}?host={socket_dir}"
        conninfo = f"host={socket_dir} user=postgres dbname=postgres"
    if keep:
        return bench_url
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return bench_url


def use_services(database: str, *, keep: bool = False) -> dict[str, str]:
    """Point this process (and children) at a fresh bench database (or, with
    `keep`, the one a previous run left) and Redis."""
    from bureau import embedded

    os.environ["DATABASE_URL"] = fresh_database(database, keep=keep)
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = f"unix://{embedded.ensure_redis()}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bureau.settings")
    os.environ["BUREAU_CACHE_PREFIX"] = f"bench-{database}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return {
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": os.environ["REDIS_URL"],
    }


class Worker:
    """A real Celery worker subprocess (solo pool) whose peak RSS is sampled."""

    def __init__(
        self,
        queues: str = "default,ingest,aggregate,notify,maintenance",
        name: str = "worker",
    ):
        self.log_path = OUT / f"{name}.log"
        log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.nodename = f"bench-{name}-{os.getpid()}@{socket.gethostname()}"
        self._log = log
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "bureau",
                "worker",
                "-Q",
                queues,
                "--pool",
                "solo",
                "-l",
                "warning",
                "-n",
                self.nodename,
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )
        self.peak_rss = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        import psutil

        proc = psutil.Process(self.process.pid)
        while not self._stop.is_set():
            try:
                rss = proc.memory_info().rss + sum(
                    child.memory_info().rss for child in proc.children(recursive=True)
                )
            except psutil.Error:
                return
            self.peak_rss = max(self.peak_rss, rss)
            time.sleep(0.05)

    def wait_ready(self, timeout: float = 60) -> None:
        from bureau.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if app.control.ping(destination=[self.nodename], timeout=0.5):
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited; see {self.log_path}")
        raise RuntimeError("worker did not answer ping")

    def stop(self) -> None:
        self._stop.set()
        stop_process(self.process)
        self._log.close()


def stop_process(process: subprocess.Popen) -> None:
    """Terminate a bench's server process, killing it if it hangs on for 30 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
