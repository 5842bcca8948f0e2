"""Fuzz the API (`make fuzz`; CI runs it after the tests): schemathesis with every
check (`st run --checks all`) over every operation of the OpenAPI schema, against
a live gunicorn on a fresh database holding a small dataset (fuzz/dataset.py).

    .venv/bin/python fuzz/run.py [--max-examples 12] [--max-time 150] [--keep]

The database is `<DATABASE_URL's name>_fuzz` on the same server (the embedded one
without DATABASE_URL), dropped afterwards unless --keep; Redis is REDIS_URL's,
with every key of the run under its own prefix (fuzz/settings.py), deleted
afterwards. Each operation is called as the caller it is for, one schemathesis
run per caller (RUNS): an API key with every scope, then the sessions of an
auditor, a member admin and a compliance officer; path parameters name the
dataset's objects. `--max-time` is shared out between the runs. Exit status: 0
when every run found no server error and no schema failure; the reports (JUnit,
NDJSON) and the server's log are kept in the folder printed last.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETTINGS = "fuzz.settings"
API = "^/api/v1/"
# Who calls what: one schemathesis run per caller, each with its own headers.
# (schemathesis 4.32 keeps the headers of the first operation a worker thread
# ran for all later ones, so per-operation headers would leak between callers.)
# Order matters: the later runs may suspend the member or revoke its key.
_MEMBER_ADMIN = r"(keys/|batches/[^/]+/share/)"
_COMPLIANCE = r"(members/$|members/[^m]|subjects/|alerts/)"
_AUDITOR = "audit-events/"
RUNS = [
    # (caller: "key" or a role with a session, share of the time, filters)
    ("key", 0.55, [
        "--include-path-regex", API,
        "--exclude-path-regex", f"{API}({_MEMBER_ADMIN}|{_COMPLIANCE}|{_AUDITOR})",
        "--exclude-name", "POST /api/v1/disputes/",
    ]),
    ("auditor", 0.1, ["--include-path-regex", API + _AUDITOR]),
    # DELETE revokes a key, which stays readable with revoked_at: no use-after-free.
    ("member_admin", 0.15, [
        "--include-path-regex", API + _MEMBER_ADMIN,
        "--exclude-checks", "use_after_free",
    ]),
    ("compliance", 0.2, [
        "--include-path-regex", API + _COMPLIANCE,
        "--include-name", "POST /api/v1/disputes/",
    ]),
]  # fmt: skip
# Operations that delete or replace an object get one of their own. (Filters
# name operations as "METHOD path": include-path and include-method would match
# either.)
OWN_OBJECTS = [
    ("DELETE /api/v1/watches/{watch_id}/", {"watch_id": "watch_id_delete"}),
    ("DELETE /api/v1/webhooks/{webhook_id}/", {"webhook_id": "webhook_id_delete"}),
    ("POST /api/v1/keys/{key_id}/rotate/", {"key_id": "key_id_rotate"}),
]
# Schema-valid input these operations may still refuse with a 400 (or for files
# 413/415): what they check depends on the data or the clock, which no schema
# states. Everything else schema-valid must be accepted.
_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]
CHECKED_BEYOND_SCHEMA = {
    "POST /api/v1/batches/": ["400", "413", "415"],  # the file's rows and format
    "POST /api/v1/screenings/": ["400", "413", "415"],
    "POST /api/v1/keys/": ["400"],  # expiry in the future
    "POST /api/v1/disputes/": ["400"],  # the record exists
    "PATCH /api/v1/disputes/{dispute_id}/": ["400"],  # values checked as a row
    "POST /api/v1/batches/{batch_id}/share/": ["400"],  # a user of the member
    "POST /api/v1/subjects/{subject_id}/statements/": ["400"],  # printable text
}
# Checks an operation fails today outside this area's code, and what fixes it.
# Checks left out per operation, with the reason (none today).
NOT_YET: dict[str, str] = {}
PATH_PARAMETERS = (
    "batch_id",
    "inquiry_id",
    "watch_id",
    "webhook_id",
    "dispute_id",
    "subject_id",
    "screening_id",
    "alert_id",
    "key_id",
)


def log(message: str) -> None:
    print(f"fuzz: {message}", file=sys.stderr, flush=True)


def load_dotenv() -> None:
    from bureau.devenv import ENV_FILE, ensure_dev_env

    ensure_dev_env()
    for line in ENV_FILE.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            name, value = line.split("=", 1)
            os.environ.setdefault(name.strip(), value.strip())


def database_urls() -> tuple[str, str]:
    """(the fuzz database's URL, a URL to the server's `postgres` database)."""
    from bureau import embedded

    url = os.environ.get("DATABASE_URL")
    if url:
        base, _, name = url.partition("?")[0].rpartition("/")
        return f"{base}/{name}_fuzz", f"{base}/postgres"
    embedded.ensure_postgres()
    host = f"?host={embedded.PG_DIR}"
    return (
        f"postgres://postgres@/{embedded.DATABASE_NAME}_fuzz{host}",
        f"postgres://postgres@/postgres{host}",
    )


def recreate_database(admin_url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, out: Path) -> subprocess.Popen:
    server_log = (out / "gunicorn.log").open("w")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bureau.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "2",
            "--timeout",
            "60",
            # gunicorn answers overlong request lines and header fields itself,
            # with a page of its own (docs/api.md): lifted here, so the fuzzer's
            # long query strings reach the API.
            "--limit-request-line",
            "0",
            "--limit-request-field_size",
            "0",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )


def wait_ready(server: subprocess.Popen, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited; see its log")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz")


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string is a JSON string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(
            f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()
        )
        return "{ " + items + " }"
    raise TypeError(value)


def toml_table(header: str, values: dict) -> str:
    lines = [header] if header else []
    lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def caller_headers(dataset, caller: str) -> list[str]:
    """`-H` arguments for `st run`: the key, or a role's session and CSRF token."""
    if caller == "key":
        return ["-H", f"Authorization: Bearer {dataset.key}"]
    csrf = secrets.token_hex(16)
    cookie = f"sessionid={dataset.sessions[caller]}; csrftoken={csrf}"
    return ["-H", f"Cookie: {cookie}", "-H", f"X-CSRFToken: {csrf}"]


def schemathesis_config(dataset, *, max_examples: int) -> str:
    parts = [
        toml_table(
            "",
            {
                "continue-on-failure": True,
                "request-timeout": 30,
                "suppress-health-check": ["too_slow", "filter_too_much"],
                "hooks": str(ROOT / "fuzz" / "hooks.py"),
            },
        ),
        # Any answer within 20 s: the machine's speed varies 2-3x, and it is
        # shared (schemathesis' own default is 10 s).
        toml_table("[checks]", {"max_response_time": 20}),
        toml_table(
            "[generation]",
            {
                "max-examples": max_examples,
                # Credentials are ours (below), never made up.
                "with-security-parameters": False,
            },
        ),
        toml_table(
            "[parameters]",
            {
                **{name: dataset.ids[name] for name in PATH_PARAMETERS},
                "code": dataset.ids["member_code"],
            },
        ),
    ]
    for operation, own in OWN_OBJECTS:
        parameters = {name: dataset.ids[source] for name, source in own.items()}
        parts.append(
            toml_table(
                "[[operations]]", {"include-name": operation, "parameters": parameters}
            )
        )
    for operation, check in NOT_YET.items():
        checks = {check: {"enabled": False}}
        parts.append(
            toml_table("[[operations]]", {"include-name": operation, "checks": checks})
        )
    for operation, statuses in CHECKED_BEYOND_SCHEMA.items():
        accepted = {"expected-statuses": _ACCEPTED + statuses}
        checks = {"positive_data_acceptance": accepted}
        parts.append(
            toml_table("[[operations]]", {"include-name": operation, "checks": checks})
        )
    return "\n".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=12)
    parser.add_argument("--max-time", type=int, default=150, help="seconds")
    # One: with worker threads, Hypothesis parses lambda sources concurrently,
    # which CPython 3.11's parser does not survive ("AST constructor recursion
    # depth mismatch", a crash of the run, not a finding).
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("st_args", nargs="*", help="more arguments for `st run`")
    args = parser.parse_args()

    started = time.monotonic()
    load_dotenv()
    out = Path(tempfile.mkdtemp(prefix="bureau-fuzz-out-"))
    fuzz_url, admin_url = database_urls()
    name = fuzz_url.partition("?")[0].rpartition("/")[2]
    recreate_database(admin_url, name)
    os.environ.update(
        DATABASE_URL=fuzz_url,
        DJANGO_SETTINGS_MODULE=SETTINGS,
        MEDIA_ROOT=str(out / "media"),
    )
    os.environ.setdefault("BUREAU_ENV", "dev")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # the server's errors, not logins
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from fuzz.dataset import seed

    dataset = seed()
    log(f"dataset seeded in database {name} ({time.monotonic() - started:.0f} s)")
    config = out / "schemathesis.toml"
    config.write_text(schemathesis_config(dataset, max_examples=args.max_examples))

    port = free_port()
    server = start_server(port, out)
    status = 1
    try:
        wait_ready(server, port)
        base = f"http://127.0.0.1:{port}"
        log(f"server on port {port}")
        status = 0
        for caller, share, filters in RUNS:
            command = [
                str(Path(sys.executable).with_name("st")),
                "--config-file",
                str(config),
                "run",
                f"{base}/api/schema/",
                "--url",
                base,
                "--checks",
                "all",
                "--workers",
                str(args.workers),
                "--max-time",
                str(max(10, round(args.max_time * share))),
                "--report",
                "junit,ndjson",
                "--report-dir",
                str(out / "report" / caller),
                "--no-color",
                *filters,
                *caller_headers(dataset, caller),
                *args.st_args,
            ]
            log(f"schemathesis as {caller}")
            status = subprocess.call(command, cwd=out) or status
        log(summary(out / "report"))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        from django.db import connections

        connections.close_all()
        deleted = _delete_redis_keys()
        if not args.keep:
            recreate_database(admin_url, name, drop_only=True)
        log(
            f"done in {time.monotonic() - started:.0f} s, status {status}; "
            f"{deleted} Redis keys deleted; report and server log in {out}"
        )
    return status


def summary(reports: Path) -> str:
    """Operations, requests and failures over the runs (their NDJSON reports)."""
    operations = requests = failures = 0
    for path in sorted(reports.glob("*/*.ndjson")):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            if "LoadingFinished" in event:
                statistic = event["LoadingFinished"]["statistic"]
                operations += statistic["operations"]["selected"]
            scenario = event.get("ScenarioFinished")
            if scenario:
                recorder = scenario["recorder"]
                requests += len(recorder.get("interactions", {}))
                failures += sum(
                    check["status"] == "failure"
                    for checks in recorder.get("checks", {}).values()
                    for check in checks
                )
    return f"{operations} operations, {requests} requests, {failures} failed checks"


def _delete_redis_keys() -> int:
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CACHE_REDIS_URL)
    keys = list(client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}*", count=1000))
    if keys:
        client.delete(*keys)
    return len(keys)


if __name__ == "__main__":
    sys.exit(main())
