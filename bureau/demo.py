"""`make demo`: services, schema, demo data, a Celery worker and beat, and the web
server on 127.0.0.1:8000 (BUREAU_DEMO_PORT picks another port). Ctrl-C stops
everything this runner started, and says so."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from bureau import embedded
from bureau.devenv import ENV_FILE, ensure_dev_env

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = os.environ.get("BUREAU_DEMO_HOST", "127.0.0.1")
DEFAULT_PORT = 8000
PORT = DEFAULT_PORT  # set by main() from BUREAU_DEMO_PORT
QUEUES = "default,ingest,aggregate,notify,maintenance"
STOP_SECONDS = 30  # for the web server and Celery together, then they are killed


class DemoError(Exception):
    """Ends the demo before it starts anything, with this message and no traceback."""


def configured_port() -> int:
    text = os.environ.get("BUREAU_DEMO_PORT", "").strip() or str(DEFAULT_PORT)
    port = int(text) if text.isdigit() else 0
    if not 0 < port < 65536:
        raise DemoError(
            f"BUREAU_DEMO_PORT={text!r} is not a port number (1-65535); "
            "e.g. BUREAU_DEMO_PORT=8001 make demo"
        )
    return port


def _bind(host: str, port: int) -> None:
    """Bind as gunicorn does (SO_REUSEADDR: a closed demo's TIME_WAIT is no
    obstacle), then let go at once."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))


def check_port_free(host: str, port: int) -> None:
    """Before anything starts: a busy port is said plainly, with the way out."""
    try:
        _bind(host, port)
    except socket.gaierror as exc:
        raise DemoError(
            f"BUREAU_DEMO_HOST={host!r} is not an address here ({exc.strerror})"
        ) from exc
    except OSError as exc:
        alternative = _free_port_after(host, port)
        if exc.errno == errno.EADDRINUSE:
            problem = f"port {port} on {host} is in use (another demo or server?)"
        else:
            problem = f"cannot listen on {host}:{port} ({exc.strerror})"
        raise DemoError(
            f"{problem}; choose another with BUREAU_DEMO_PORT={alternative} make demo"
        ) from exc


def _free_port_after(host: str, port: int) -> int:
    for candidate in range(max(port + 1, 1024), min(port + 100, 65535)):
        try:
            _bind(host, candidate)
        except OSError:
            continue
        return candidate
    return DEFAULT_PORT + 1


def stopped_message(
    stopped: Sequence[str], kept: Sequence[str], killed: Sequence[str]
) -> str:
    """What Ctrl-C ended, in the order it was stopped; what runs on, and why."""
    names = [f"{name} (killed)" if name in killed else name for name in stopped]
    lines = [f"Stopped: {', '.join(names)}." if names else "Nothing was started."]
    if kept:
        lines.append(
            f"Still running: {' and '.join(kept)}, as before the demo "
            "(make stop stops them)."
        )
    return "\n".join(lines)


def _load_env_file() -> None:
    for line in ENV_FILE.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            name, value = line.split("=", 1)
            os.environ.setdefault(name.strip(), value.strip())


def _manage(*args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout or ""


def _json(raw: bytes) -> dict:
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _wait_healthy(children: dict, timeout: float = 60.0) -> dict:
    """/healthz's answer, once the web server gives one (503 while Celery is not
    up yet); gives up when a child exits: the main loop says which."""
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children.values()):
            return body
        try:
            with urllib.request.urlopen(
                f"http://{HOST}:{PORT}/healthz", timeout=5
            ) as resp:
                return _json(resp.read())
        except urllib.error.HTTPError as exc:
            body = _json(exc.read())
        except OSError:
            pass
        time.sleep(0.5)
    return body


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C, `kill` (SIGTERM) and a closed terminal (SIGHUP) all stop the demo
    # cleanly; SIGINT is set explicitly because a shell starts background jobs
    # with it ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    ensure_dev_env()
    _load_env_file()
    global PORT  # the health check and the banner use it
    try:
        PORT = configured_port()
        check_port_free(HOST, PORT)
    except DemoError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    services: list[tuple[str, Callable[[], bool]]] = []  # started here: stopped here
    kept: list[str] = []  # embedded servers already running: left running
    children: dict[str, subprocess.Popen] = {}
    try:
        if not os.environ.get("DATABASE_URL"):
            if embedded.postgres_running():
                kept.append("PostgreSQL")
            else:
                services.append(("PostgreSQL", embedded.stop_postgres))
                embedded.ensure_postgres()
        if not os.environ.get("REDIS_URL"):
            if embedded.redis_running():
                kept.append("Redis")
            else:
                services.append(("Redis", embedded.stop_redis))
                embedded.ensure_redis()
        _manage("migrate", "--noinput")
        _manage("collectstatic", "--noinput", "--verbosity", "0")
        seed = json.loads(
            _manage("seed_demo", "--json", capture=True).strip().splitlines()[-1]
        )
        log_dir = embedded.DATA_DIR / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)

        def spawn(name: str, *cmd: str) -> None:
            log = open(log_dir / f"{name}.log", "a")  # noqa: SIM115 - lives with the child
            # A session of its own: Ctrl-C reaches the demo alone, which stops
            # each child once, in order (gunicorn hit by the terminal's SIGINT and
            # then by a SIGTERM could hang past any timeout), and can kill a
            # child's whole group (gunicorn's workers too) if it must.
            children[name] = subprocess.Popen(
                cmd,
                cwd=BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        celery = str(BIN / "celery")
        spawn(
            "worker",
            celery,
            "-A",
            "bureau",
            "worker",
            "-Q",
            QUEUES,
            "-l",
            "info",
            "--concurrency",
            "2",
            "-n",
            "demo@%h",
        )
        spawn(
            "beat",
            celery,
            "-A",
            "bureau",
            "beat",
            "-l",
            "info",
            "--schedule",
            str(embedded.DATA_DIR / "celerybeat-schedule"),
        )
        spawn(
            "web",
            str(BIN / "gunicorn"),
            "bureau.wsgi",
            "--config",
            "python:bureau.gunicorn_conf",
            "--bind",
            f"{HOST}:{PORT}",
            "--workers",
            "2",
            "--threads",
            "4",
        )
        health = _wait_healthy(children)
        if all(child.poll() is None for child in children.values()):
            _banner(seed, health, log_dir)
        while all(child.poll() is None for child in children.values()):
            time.sleep(1)
        for name, child in children.items():
            if child.poll() is not None:
                print(
                    f"demo: the {name} process exited (code {child.returncode}); "
                    f"see {log_dir / f'{name}.log'}",
                    file=sys.stderr,
                )
        return 1
    except KeyboardInterrupt:
        print("\ndemo: stopping…", flush=True)
        return 0
    finally:
        print(_stop(children, services, kept), flush=True)


def _stop(
    children: dict[str, subprocess.Popen],
    services: list[tuple[str, Callable[[], bool]]],
    kept: list[str],
) -> str:
    """Stop the web server, worker and beat, then the embedded servers started
    for them. A second Ctrl-C meanwhile would leave orphans: it is ignored."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    order = [name for name in ("web", "worker", "beat") if name in children]
    for name in order:
        if children[name].poll() is None:
            children[name].send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    killed = []
    for name in order:
        try:
            children[name].wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(children[name].pid, signal.SIGKILL)
            children[name].wait()
            killed.append(name)
    for _, stop in services:
        stop()
    return stopped_message(order + [name for name, _ in services], kept, killed)


def _persons_lines(seed: dict) -> list[str]:
    """Persons on file to query: synthetic test identities, never real persons."""
    persons = seed.get("persons") or []
    if not persons:
        return []
    return [
        "Persons on file (synthetic test identities; query them):",
        *(
            f"  {p['kind']:<12} {p['id_type']:<12} {p['id_number']:<20} {p['name']}"
            for p in persons
        ),
        "  More: .venv/bin/python manage.py demo_persons --kind multi --count 20",
        "",
    ]


def _banner(seed: dict, health: dict, log_dir: Path) -> None:
    url = f"http://{HOST}:{PORT}"
    lines = [
        "",
        "Bureau demo is running.",
        f"  Site:      {url}/",
        f"  API docs:  {url}/api/docs/",
        f"  Admin:     {url}/admin/",
        f"  Health:    {health.get('status', 'unknown')} {health.get('checks', {})}",
        f"  Logs:      {log_dir}/",
        "",
        f"Logins (password for every user: {seed['password']}):",
        *(
            f"  {u['username']:<24} {u['role']:<14} {u['member'] or 'bureau staff'}"
            for u in seed["users"]
        ),
        "",
        "API keys (scopes upload, query, monitor):",
        *(f"  {k['member']:<8} {k['key']}" for k in seed["keys"]),
        "",
        *_persons_lines(seed),
        "Try:",
        f"  curl -H 'Authorization: Bearer {seed['keys'][0]['key']}' \\",
        f"       {url}/api/v1/members/me/",
        "",
        "Ctrl-C stops the demo.",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
