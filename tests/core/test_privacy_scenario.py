"""No identity number or phone in clear, anywhere: a whole day of ordinary use with
identity numbers and phones typed into every free field, then a `pg_dump` of the
database, every log line written (the console handler, caplog, the web server's
access log) and every file left under MEDIA_ROOT are searched for each of them.

Real PostgreSQL, Redis, a real Celery worker and a real gunicorn started the way
the image starts it (the Dockerfile's CMD), with the test database.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from bureau.records.identity import resident_id_check_char
from bureau.records.models import Record, Subject
from members.models import Role
from tests.conftest import bearer
from tests.factories import bureau_user, issue_key
from tests.records.helpers import (
    ID_A,
    ID_B,
    ID_BAD_CHECKSUM,
    ID_C,
    PHONE,
    csv_bytes,
    current_row,
    good_row,
    upload_file,
)

ROOT = Path(__file__).resolve().parents[2]


def resident(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


# Typed where a person types free text or an identifier. Each is a valid number,
# so that the strict refusals (which accept what is not one) must catch it.
ID_IN_NAME = resident("32010619850715123")
ID_NAMED_BY_A_NUMBER = resident("11010119800101001")  # the person whose name it is
ID_IN_ACCOUNT = resident("44030419900101456")
ID_IN_AS_OF = resident("51010719751230789")
ID_IN_IDEMPOTENCY = resident("21020219680808246")
ID_IN_CONSENT = resident("33010219790303135")
ID_IN_WATCH = resident("37020219820202147")
ID_IN_SCREENING = resident("42010619930909158")
ID_IN_CLAIM = resident("61010319700707169")
ID_IN_STATEMENT = resident("12010119880808170")
LEGACY_IN_STATEMENT = "110105491231002"  # 15-digit legacy number, 1949-12-31
USCC_IN_CLAIM = "91350100M000100Y43"
PHONE_IN_ACCOUNT = "13912345678"
PHONE_IN_DAYS = "15012345678"
PHONE_IN_FILENAME = "18612340000"
PHONE_IN_CONSENT = "+8613712345678"
PHONE_IN_WATCH = "17712345678"
PHONE_IN_CLAIM = "１５８１２３４５６７８"  # full-width digits
PHONE_IN_NOTE = "+86 136 1234 5678"
PHONE_IN_STATEMENT = "139 8765 4321"
E164_IN_STATEMENT = "+14155552671"
PHONE_IN_AUDIT = "+8618612345678"
PHONE_IN_PATH = "13599998888"

SECRETS = (
    ID_A, ID_B, ID_C, ID_BAD_CHECKSUM, PHONE, ID_NAMED_BY_A_NUMBER,
    ID_IN_NAME, ID_IN_ACCOUNT, ID_IN_AS_OF, ID_IN_IDEMPOTENCY, ID_IN_CONSENT,
    ID_IN_WATCH, ID_IN_SCREENING, ID_IN_CLAIM, ID_IN_STATEMENT,
    LEGACY_IN_STATEMENT, USCC_IN_CLAIM,
    PHONE_IN_ACCOUNT, PHONE_IN_DAYS, PHONE_IN_FILENAME, PHONE_IN_CONSENT,
    PHONE_IN_WATCH, PHONE_IN_CLAIM, PHONE_IN_NOTE, PHONE_IN_STATEMENT,
    E164_IN_STATEMENT, PHONE_IN_AUDIT, PHONE_IN_PATH,
)  # fmt: skip


def clear_forms(value: str) -> set[str]:
    """The ways a value can sit in clear: as typed, ASCII, digits only, and a
    mobile's 11 national digits."""
    ascii_value = "".join(
        chr(ord(ch) - 0xFEE0) if 0xFF01 <= ord(ch) <= 0xFF5E else ch for ch in value
    )
    digits = "".join(ch for ch in ascii_value if ch.isalnum())
    forms = {value, ascii_value, digits}
    if digits.startswith("86") and len(digits) == 13:
        forms.add(digits[2:])
    return forms


def leaks(text: str) -> list[str]:
    folded = text.upper()
    return sorted(
        {
            value
            for value in SECRETS
            for form in clear_forms(value)
            if form.upper() in folded
        }
    )


# -- helpers ---------------------------------------------------------------------


def wait_final(client, url, key, finals, timeout=60.0) -> dict:
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = client.get(url, **bearer(key)).json()
        if body.get("status") in finals:
            return body
        time.sleep(0.1)
    raise AssertionError(f"{url} not final after {timeout}s: {body}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def image_web_command() -> list[str]:
    """The Dockerfile's CMD (exec form): how the image starts the web server."""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            return json.loads(line.removeprefix("CMD "))
    raise AssertionError("no CMD in the Dockerfile")


class Gunicorn:
    """The image's web command on a free port (1 worker), on the test database."""

    def __init__(self, log_path: Path):
        command = image_web_command()
        assert command[0] == "gunicorn", command
        args = command[1:]
        for flag, value in (("--bind", None), ("--workers", "1")):
            if flag in args:
                at = args.index(flag)
                del args[at : at + 2]
            if value is not None:
                args += [flag, value]
        self.port = free_port()
        args += ["--bind", f"127.0.0.1:{self.port}"]
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": (
                f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
                f"{db['PORT'] or 5432}/{db['NAME']}"
            ),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DB_CONN_MAX_AGE": "0",
            "LOG_LEVEL": "INFO",
        }
        self.log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *args],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, log_path.read_text()
            try:
                self.get("/healthz")
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not start: " + log_path.read_text())

    def get(self, path: str, headers: dict | None = None) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def pg_dump() -> str:
    db = connection.settings_dict
    command = ["pg_dump", "--no-owner", "--host", db["HOST"] or "127.0.0.1"]
    command += ["--port", str(db["PORT"] or 5432), "--username", db["USER"]]
    result = subprocess.run(
        [*command, db["NAME"]], capture_output=True, check=True, timeout=120
    )
    return result.stdout.decode()


@pytest.fixture
def console_log(tmp_path):
    """What the configured console handler writes (the production log line, with
    its filters and formatter), into a file for the length of the test."""
    handlers = [h for h in logging.getLogger().handlers if h.name == "console"]
    assert handlers, "settings.LOGGING has no console handler on the root logger"
    path = tmp_path / "console.log"
    with path.open("w") as stream:
        previous = [handler.setStream(stream) for handler in handlers]
        yield path
        for handler, old in zip(handlers, previous, strict=True):
            handler.setStream(old)


# -- the scenario -------------------------------------------------------------------


@pytest.mark.celery_worker
@pytest.mark.slow
def test_ordinary_use_with_identities_in_free_fields_leaves_none_in_clear(
    celery_worker, settings, tmp_path, caplog, console_log, acme
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    caplog.set_level(logging.INFO)
    api = Client()
    _, key = issue_key(acme)
    statuses: dict[str, int] = {}

    # Upload: an identity-shaped Idempotency-Key is refused; rows with identity
    # numbers and phones in the wrong columns become row errors, masked.
    rows = [
        good_row(account_no="ACC-1"),
        current_row(account_no="ACC-2", id_number=ID_C, name="李四"),
        good_row(account_no="ACC-3", id_number=ID_NAMED_BY_A_NUMBER, name=ID_IN_NAME),
        good_row(account_no=PHONE_IN_ACCOUNT, id_number=ID_B),
        good_row(account_no="LN" + ID_IN_ACCOUNT, id_number=ID_B),
        good_row(account_no="ACC-6", id_number=ID_B, days_overdue=PHONE_IN_DAYS),
        good_row(account_no="ACC-7", id_number=ID_B, as_of=ID_IN_AS_OF),
        good_row(account_no="ACC-8", id_number=ID_BAD_CHECKSUM),
        good_row(account_no="ACC-9", id_number=PHONE),
    ]
    data = csv_bytes(rows)
    filename = f"records-{PHONE_IN_FILENAME}.csv"
    response = api.post(
        "/api/v1/batches/",
        {"file": upload_file(filename, data)},
        HTTP_IDEMPOTENCY_KEY=f"upload-{ID_IN_IDEMPOTENCY}",
        **bearer(key),
    )
    statuses["idempotency_key"] = response.status_code
    refused_key = response.json()
    response = api.post(
        "/api/v1/batches/",
        {"file": upload_file(filename, data)},
        HTTP_IDEMPOTENCY_KEY="upload-2026-12-03-a",
        **bearer(key),
    )
    statuses["upload"] = response.status_code
    batch_id = response.json()["id"]
    batch = wait_final(
        api, f"/api/v1/batches/{batch_id}/", key, ("completed_with_errors",)
    )
    errors = api.get(
        f"/api/v1/batches/{batch_id}/errors/?page_size=100", **bearer(key)
    ).json()["results"]
    errors_csv = b"".join(
        api.get(
            f"/api/v1/batches/{batch_id}/errors/?format=csv", **bearer(key)
        ).streaming_content
    ).decode()
    # A path holding a phone (404): Django's request log names the path.
    api.get(f"/api/v1/batches/{PHONE_IN_PATH}/", **bearer(key))

    # Queries and watches: consent references holding a number are refused.
    query = {
        "id_type": "resident_id",
        "id_number": ID_A,
        "name": "张三",
        "purpose": "loan_approval",
        "consent_reference": "CONSENT-2026-001",
    }
    for consent in (f"CONSENT-{ID_IN_CONSENT}", PHONE_IN_CONSENT):
        response = api.post(
            "/api/v1/queries/",
            {**query, "consent_reference": consent},
            content_type="application/json",
            **bearer(key),
        )
        statuses[f"query consent {consent}"] = response.status_code
    response = api.post(
        "/api/v1/queries/", query, content_type="application/json", **bearer(key)
    )
    statuses["query"] = response.status_code
    for consent in (f"W-{ID_IN_WATCH}", f"W-{PHONE_IN_WATCH}"):
        response = api.post(
            "/api/v1/watches/",
            {**query, "consent_reference": consent},
            content_type="application/json",
            **bearer(key),
        )
        statuses[f"watch consent {consent}"] = response.status_code
    response = api.post(
        "/api/v1/watches/", query, content_type="application/json", **bearer(key)
    )
    statuses["watch"] = response.status_code

    # Screening: same rule for its consent reference; the file is screened.
    people = csv_bytes(
        [
            {"id_type": "resident_id", "id_number": ID_A, "name": "张三"},
            {"id_type": "resident_id", "id_number": ID_B, "name": "王五"},
            {"id_type": "resident_id", "id_number": ID_BAD_CHECKSUM, "name": "赵六"},
        ],
        columns=("id_type", "id_number", "name"),
    )
    screening = {"purpose": "loan_approval"}
    response = api.post(
        "/api/v1/screenings/",
        {
            **screening,
            "consent_reference": f"S-{ID_IN_SCREENING}",
            "file": upload_file("persons.csv", people),
        },
        **bearer(key),
    )
    statuses["screening consent"] = response.status_code
    response = api.post(
        "/api/v1/screenings/",
        {
            **screening,
            "consent_reference": "S-2026-001",
            "file": upload_file("persons.csv", people),
        },
        **bearer(key),
    )
    assert response.status_code == 202, response.json()
    wait_final(
        api,
        f"/api/v1/screenings/{response.json()['id']}/",
        key,
        ("completed",),
    )

    # Disputes and statements: the subject's words are kept, numbers masked.
    carol = bureau_user("carol", Role.COMPLIANCE)
    staff = Client()
    staff.force_login(carol)
    record = Record.objects.get(member=acme, account_no="ACC-1")
    claim = f"冒用身份证 {ID_IN_CLAIM}，手机{PHONE_IN_CLAIM}，公司 {USCC_IN_CLAIM}"
    response = staff.post(
        "/api/v1/disputes/",
        {"record_id": record.pk, "claim": claim},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    dispute_id = response.json()["id"]
    response = api.patch(
        f"/api/v1/disputes/{dispute_id}/",
        {"outcome": "confirmed", "note": f"Called the borrower on {PHONE_IN_NOTE}."},
        content_type="application/json",
        **bearer(key),
    )
    assert response.status_code == 200, response.json()
    subject = Subject.objects.get(pk=record.subject_id)
    statement = (
        f"My number {ID_IN_STATEMENT} (old {LEGACY_IN_STATEMENT}); call me on "
        f"{PHONE_IN_STATEMENT} or {E164_IN_STATEMENT}."
    )
    response = staff.post(
        f"/api/v1/subjects/{subject.pk}/statements/",
        {"text": statement},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    report = api.post(
        "/api/v1/queries/", query, content_type="application/json", **bearer(key)
    ).json()

    # Audit search with a number and a phone in the query string, through the
    # test client and through the web server the image runs (its access log).
    aude = bureau_user("aude", Role.AUDITOR)
    auditor = Client()
    auditor.force_login(aude)
    search = f"/api/v1/audit-events/?object_id={ID_A}&actor={PHONE_IN_AUDIT}"
    assert auditor.get(search).status_code == 200
    gunicorn = Gunicorn(tmp_path / "gunicorn.log")
    try:
        cookie = {"Cookie": f"sessionid={auditor.cookies['sessionid'].value}"}
        statuses["gunicorn search"] = gunicorn.get(search, cookie)
        statuses["gunicorn 404"] = gunicorn.get(
            f"/api/v1/batches/{PHONE_IN_PATH}/?id_number={ID_B}", cookie
        )
    finally:
        gunicorn.stop()

    # What was kept: the database, every log line, every file left behind.
    found = {"pg_dump": leaks(pg_dump())}
    found["console log"] = leaks(console_log.read_text())
    found["caplog"] = leaks(caplog.text)
    found["gunicorn log"] = leaks((tmp_path / "gunicorn.log").read_text())
    media = Path(settings.MEDIA_ROOT)
    found["media files"] = [
        str(path.relative_to(media)) for path in media.rglob("*") if path.is_file()
    ]
    found["API answers"] = leaks(
        json.dumps([batch, errors, report], ensure_ascii=False) + errors_csv
    )
    leaked = {where: values for where, values in found.items() if values}
    assert not leaked, "in clear:\n" + "\n".join(
        f"  {where}: {', '.join(values)}" for where, values in leaked.items()
    )

    # And the refusals were field errors, not silent drops or 500s.
    assert refused_key["errors"] == {
        "Idempotency-Key": ["Must not contain identity numbers or phones."]
    }
    assert statuses == {
        "idempotency_key": 400,
        "upload": 202,
        f"query consent CONSENT-{ID_IN_CONSENT}": 400,
        f"query consent {PHONE_IN_CONSENT}": 400,
        "query": 200,
        f"watch consent W-{ID_IN_WATCH}": 400,
        f"watch consent W-{PHONE_IN_WATCH}": 400,
        "watch": 201,
        "screening consent": 400,
        "gunicorn search": 200,
        "gunicorn 404": 404,
    }
    by_account = {(e["row"], e["column"]): e for e in errors}
    assert by_account[(3, "name")]["code"] == "invalid_format"
    assert by_account[(4, "account_no")]["code"] == "invalid_format"
    assert by_account[(5, "account_no")]["code"] == "invalid_format"
    assert by_account[(6, "days_overdue")]["value"] == "150****5678"
    assert (
        by_account[(7, "as_of")]["value"]
        == ID_IN_AS_OF[:6] + "*" * 8 + (ID_IN_AS_OF[-4:])
    )
    assert batch["rows_accepted"] == 2 and batch["rows_rejected"] == 7
