"""`make demo`: services, schema, demo data, a Celery worker and beat, and the web
server on 127.0.0.1:8000. Ctrl-C stops everything this runner started."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bureau import embedded
from bureau.devenv import ENV_FILE, ensure_dev_env

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = os.environ.get("BUREAU_DEMO_HOST", "127.0.0.1")
PORT = int(os.environ.get("BUREAU_DEMO_PORT", "8000"))
QUEUES = "default,ingest,aggregate,notify,maintenance"


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


def _wait_healthy(timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(
                f"http://{HOST}:{PORT}/healthz", timeout=5
            ) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            body = json.loads(exc.read() or b"{}")
        except OSError:
            pass
        time.sleep(0.5)
    return body


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C and `kill` (SIGTERM) both stop the demo cleanly; SIGINT is set
    # explicitly because a shell starts background jobs with it ignored.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    ensure_dev_env()
    _load_env_file()
    stops = []
    if not os.environ.get("DATABASE_URL") and not embedded.postgres_running():
        embedded.ensure_postgres()
        stops.append(embedded.stop_postgres)
    if not os.environ.get("REDIS_URL") and not embedded.redis_running():
        embedded.ensure_redis()
        stops.append(embedded.stop_redis)

    children: list[subprocess.Popen] = []
    try:
        _manage("migrate", "--noinput")
        _manage("collectstatic", "--noinput", "--verbosity", "0")
        seed = json.loads(
            _manage("seed_demo", "--json", capture=True).strip().splitlines()[-1]
        )
        log_dir = embedded.DATA_DIR / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)

        def spawn(name: str, *cmd: str) -> None:
            log = open(log_dir / f"{name}.log", "a")  # noqa: SIM115 - lives with the child
            children.append(
                subprocess.Popen(
                    cmd, cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT
                )
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
        health = _wait_healthy()
        _banner(seed, health, log_dir)
        while all(child.poll() is None for child in children):
            time.sleep(1)
        print("demo: a process exited; see the logs in", log_dir, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ndemo: stopping…")
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        for stop in stops:
            stop()


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
