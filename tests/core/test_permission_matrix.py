"""The permission matrix: every actor × every `/api/v1/` endpoint × own/other member.

ONE table (MATRIX, expanded into ROWS) states the expected status of every call and,
in its last column, the audit event a successful call records ("-": none). A
refused call (4xx) records nothing. docs/permissions.md explains the policy behind
each column. A route or method that
the URL resolver knows and the table does not fails the suite: adding an endpoint
means adding its rows.

"own" is an object of Acme, the member of every member-side actor here (users and
keys); "other" is Globex's. Bureau staff belong to no member: for them own and other
are simply two members' objects. Objects are built once per module (inside one
transaction rolled back at the end); each test runs in a savepoint of it.
"""

# The matrix is a wide table on purpose: one line per endpoint, one column per actor.
# ruff: noqa: E501

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from rest_framework.test import APIClient

from bureau.audit.models import Alert, AuditEvent
from bureau.records.models import Record
from bureau.records.services.disputes import dispute_open
from reports.services.query import QueryInput, query_run
from reports.services.screening import screening_create
from reports.services.watches import WatchInput, watch_create
from reports.services.webhooks import webhook_create
from tests.core.routes import api_routes
from tests.factories import MemberFactory, UserFactory, issue_key
from tests.records.helpers import (
    ID_A,
    ID_B,
    ID_C,
    csv_bytes,
    good_row,
    ingest,
    upload_file,
)

pytestmark = pytest.mark.django_db

ACTORS = (
    "member_admin",
    "uploader",
    "analyst",
    "bureau_admin",
    "compliance",
    "auditor",
    "anonymous",
    "key:upload",
    "key:query",
    "key:monitor",
)
MEMBER_USERS = ("member_admin", "uploader", "analyst")
BUREAU_USERS = ("bureau_admin", "compliance", "auditor")

# fmt: off
MATRIX = [
    # method    path                                    whose     m_adm upl  anl  b_adm comp  aud anon k:up k:qry k:mon  audited
    ("GET",    "/api/v1/members/me/",                   "-",      200, 200, 200, 403, 403, 403, 401, 200, 200, 200, "-"),
    ("GET",    "/api/v1/keys/",                         "-",      200, 403, 403, 403, 403, 403, 401, 403, 403, 403, "-"),
    ("POST",   "/api/v1/keys/",                         "-",      201, 403, 403, 403, 403, 403, 401, 403, 403, 403, "api_key.create"),
    ("GET",    "/api/v1/keys/{key_id}/",                "own",    200, 403, 403, 403, 403, 403, 401, 403, 403, 403, "-"),
    ("GET",    "/api/v1/keys/{key_id}/",                "other",  404, 403, 403, 403, 403, 403, 401, 403, 403, 403, "-"),
    ("DELETE", "/api/v1/keys/{key_id}/",                "own",    204, 403, 403, 403, 403, 403, 401, 403, 403, 403, "api_key.revoke"),
    ("DELETE", "/api/v1/keys/{key_id}/",                "other",  404, 403, 403, 403, 403, 403, 401, 403, 403, 403, "api_key.revoke"),
    ("POST",   "/api/v1/keys/{key_id}/rotate/",         "own",    201, 403, 403, 403, 403, 403, 401, 403, 403, 403, "api_key.rotate"),
    ("POST",   "/api/v1/keys/{key_id}/rotate/",         "other",  404, 403, 403, 403, 403, 403, 401, 403, 403, 403, "api_key.rotate"),
    # Member platforms are bureau business: staff list them, compliance and bureau
    # admins suspend and reinstate (auditors read only). Reinstating an active member
    # changes nothing, so records nothing (tests/members/test_suspension.py).
    ("GET",    "/api/v1/members/",                      "-",      403, 403, 403, 200, 200, 200, 401, 403, 403, 403, "-"),
    ("POST",   "/api/v1/members/{code}/suspend/",       "own",    403, 403, 403, 200, 200, 403, 401, 403, 403, 403, "member.suspend"),
    ("POST",   "/api/v1/members/{code}/suspend/",       "other",  403, 403, 403, 200, 200, 403, 401, 403, 403, 403, "member.suspend"),
    ("POST",   "/api/v1/members/{code}/reinstate/",     "own",    403, 403, 403, 200, 200, 403, 401, 403, 403, 403, "-"),
    ("POST",   "/api/v1/members/{code}/reinstate/",     "other",  403, 403, 403, 200, 200, 403, 401, 403, 403, 403, "-"),
    ("GET",    "/api/v1/batches/",                      "-",      200, 200, 403, 200, 403, 200, 401, 200, 403, 403, "-"),
    ("POST",   "/api/v1/batches/",                      "-",      202, 202, 403, 403, 403, 403, 401, 202, 403, 403, "batch.create"),
    # An analyst reads a batch only when a member admin shared it (404 otherwise).
    # Reading errors as JSON is not audited; the CSV download is (batch.errors_download).
    ("GET",    "/api/v1/batches/{batch_id}/",           "own",    200, 200, 404, 200, 403, 200, 401, 200, 403, 403, "-"),
    ("GET",    "/api/v1/batches/{batch_id}/",           "other",  404, 404, 404, 200, 403, 200, 401, 404, 403, 403, "-"),
    ("GET",    "/api/v1/batches/{batch_id}/errors/",    "own",    200, 200, 404, 200, 403, 200, 401, 200, 403, 403, "-"),
    ("GET",    "/api/v1/batches/{batch_id}/errors/",    "other",  404, 404, 404, 200, 403, 200, 401, 404, 403, 403, "-"),
    ("POST",   "/api/v1/batches/{batch_id}/share/",     "own",    200, 403, 403, 403, 403, 403, 401, 403, 403, 403, "batch.share"),
    ("POST",   "/api/v1/batches/{batch_id}/share/",     "other",  404, 403, 403, 403, 403, 403, 401, 403, 403, 403, "batch.share"),
    ("POST",   "/api/v1/queries/",                      "-",      200, 403, 200, 200, 200, 403, 401, 403, 200, 403, "query.run"),
    ("GET",    "/api/v1/queries/{inquiry_id}/report/",  "own",    200, 403, 200, 200, 200, 200, 401, 403, 200, 403, "report.view"),
    ("GET",    "/api/v1/queries/{inquiry_id}/report/",  "other",  404, 403, 404, 200, 200, 200, 401, 403, 404, 403, "report.view"),
    ("GET",    "/api/v1/inquiries/",                    "-",      200, 403, 200, 200, 403, 200, 401, 403, 200, 403, "-"),
    ("GET",    "/api/v1/screenings/",                   "-",      200, 403, 200, 403, 403, 403, 401, 403, 200, 403, "-"),
    ("POST",   "/api/v1/screenings/",                   "-",      202, 403, 202, 403, 403, 403, 401, 403, 202, 403, "screening.create"),
    ("GET",    "/api/v1/screenings/{screening_id}/",    "own",    200, 403, 200, 403, 403, 403, 401, 403, 200, 403, "-"),
    ("GET",    "/api/v1/screenings/{screening_id}/",    "other",  404, 403, 404, 403, 403, 403, 401, 403, 404, 403, "-"),
    ("GET",    "/api/v1/screenings/{screening_id}/results/", "own",   200, 403, 200, 403, 403, 403, 401, 403, 200, 403, "screening.results_view"),
    ("GET",    "/api/v1/screenings/{screening_id}/results/", "other", 404, 403, 404, 403, 403, 403, 401, 403, 404, 403, "screening.results_view"),
    ("GET",    "/api/v1/audit-events/",                 "-",      403, 403, 403, 200, 403, 200, 401, 403, 403, 403, "audit.read"),
    # Misuse alerts are bureau-side: staff read them, compliance/admins handle them.
    ("GET",    "/api/v1/alerts/",                       "-",      403, 403, 403, 200, 200, 200, 401, 403, 403, 403, "alert.read"),
    ("GET",    "/api/v1/alerts/{alert_id}/",            "own",    403, 403, 403, 200, 200, 200, 401, 403, 403, 403, "alert.read"),
    ("GET",    "/api/v1/alerts/{alert_id}/",            "other",  403, 403, 403, 200, 200, 200, 401, 403, 403, 403, "alert.read"),
    ("PATCH",  "/api/v1/alerts/{alert_id}/",            "own",    403, 403, 403, 200, 200, 403, 401, 403, 403, 403, "alert.update"),
    ("PATCH",  "/api/v1/alerts/{alert_id}/",            "other",  403, 403, 403, 200, 200, 403, 401, 403, 403, 403, "alert.update"),
    # Monitoring is member-side: analysts and admins watch, only admins hook.
    ("GET",    "/api/v1/watches/",                      "-",      200, 403, 200, 403, 403, 403, 401, 403, 403, 200, "-"),
    ("POST",   "/api/v1/watches/",                      "-",      201, 403, 201, 403, 403, 403, 401, 403, 403, 201, "watch.create"),
    ("GET",    "/api/v1/watches/{watch_id}/",           "own",    200, 403, 200, 403, 403, 403, 401, 403, 403, 200, "-"),
    ("GET",    "/api/v1/watches/{watch_id}/",           "other",  404, 403, 404, 403, 403, 403, 401, 403, 403, 404, "-"),
    ("DELETE", "/api/v1/watches/{watch_id}/",           "own",    204, 403, 204, 403, 403, 403, 401, 403, 403, 204, "watch.delete"),
    ("DELETE", "/api/v1/watches/{watch_id}/",           "other",  404, 403, 404, 403, 403, 403, 401, 403, 403, 404, "watch.delete"),
    ("GET",    "/api/v1/webhooks/",                     "-",      200, 403, 403, 403, 403, 403, 401, 403, 403, 200, "-"),
    ("POST",   "/api/v1/webhooks/",                     "-",      201, 403, 403, 403, 403, 403, 401, 403, 403, 201, "webhook.create"),
    ("GET",    "/api/v1/webhooks/{webhook_id}/",        "own",    200, 403, 403, 403, 403, 403, 401, 403, 403, 200, "-"),
    ("GET",    "/api/v1/webhooks/{webhook_id}/",        "other",  404, 403, 403, 403, 403, 403, 401, 403, 403, 404, "-"),
    ("DELETE", "/api/v1/webhooks/{webhook_id}/",        "own",    204, 403, 403, 403, 403, 403, 401, 403, 403, 204, "webhook.delete"),
    ("DELETE", "/api/v1/webhooks/{webhook_id}/",        "other",  404, 403, 403, 403, 403, 403, 401, 403, 403, 404, "webhook.delete"),
    # Data-subject rights: compliance opens disputes and acts for the subject; the
    # furnisher (member admin, uploader, upload key) reads and answers its own.
    # Compliance may only withdraw: answering for the furnisher is refused (403).
    ("GET",    "/api/v1/disputes/",                     "-",      200, 200, 403, 200, 200, 200, 401, 200, 403, 403, "dispute.list"),
    ("POST",   "/api/v1/disputes/",                     "-",      403, 403, 403, 403, 201, 403, 401, 403, 403, 403, "dispute.open"),
    ("GET",    "/api/v1/disputes/{dispute_id}/",        "own",    200, 200, 403, 200, 200, 200, 401, 200, 403, 403, "dispute.view"),
    ("GET",    "/api/v1/disputes/{dispute_id}/",        "other",  404, 404, 403, 200, 200, 200, 401, 404, 403, 403, "dispute.view"),
    ("PATCH",  "/api/v1/disputes/{dispute_id}/",        "own",    200, 200, 403, 403, 403, 403, 401, 200, 403, 403, "dispute.confirmed"),
    ("PATCH",  "/api/v1/disputes/{dispute_id}/",        "other",  404, 404, 403, 403, 403, 403, 401, 404, 403, 403, "dispute.confirmed"),
    ("GET",    "/api/v1/subjects/{subject_id}/inquiries/",   "own",   403, 403, 403, 200, 200, 200, 401, 403, 403, 403, "subject.inquiries_view"),
    ("GET",    "/api/v1/subjects/{subject_id}/inquiries/",   "other", 403, 403, 403, 200, 200, 200, 401, 403, 403, 403, "subject.inquiries_view"),
    ("GET",    "/api/v1/subjects/{subject_id}/statements/",  "own",   403, 403, 403, 200, 200, 200, 401, 403, 403, 403, "statement.list"),
    ("GET",    "/api/v1/subjects/{subject_id}/statements/",  "other", 403, 403, 403, 200, 200, 200, 401, 403, 403, 403, "statement.list"),
    ("POST",   "/api/v1/subjects/{subject_id}/statements/",  "own",   403, 403, 403, 403, 201, 403, 401, 403, 403, 403, "statement.add"),
    ("POST",   "/api/v1/subjects/{subject_id}/statements/",  "other", 403, 403, 403, 403, 201, 403, 401, 403, 403, 403, "statement.add"),
    ("POST",   "/api/v1/subjects/{subject_id}/self-report/", "own",   403, 403, 403, 403, 201, 403, 401, 403, 403, 403, "self_report.produce"),
    ("POST",   "/api/v1/subjects/{subject_id}/self-report/", "other", 403, 403, 403, 403, 201, 403, 401, 403, 403, 403, "self_report.produce"),
]
# fmt: on


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    whose: str
    actor: str
    expected: int
    audited: str = "-"  # the action a successful call records

    def __str__(self) -> str:
        whose = "" if self.whose == "-" else f" [{self.whose}]"
        return f"{self.actor} {self.method} {self.path}{whose} -> {self.expected}"

    @property
    def audit_expected(self) -> list[str]:
        """The actions this call must leave in the trail: refusals leave none."""
        if self.expected >= 400 or self.audited == "-":
            return []
        return [self.audited]


ROWS = [
    Row(method, path, whose, actor, expected, audited)
    for method, path, whose, *statuses, audited in MATRIX
    for actor, expected in zip(ACTORS, statuses, strict=True)
]


# -- the world the table is played against ------------------------------------------

PERSON = {"id_type": "resident_id", "id_number": ID_A, "name": "张三"}
CONSENT = "CONSENT-MATRIX-1"
WATCHED = {"id_number": ID_B, "name": "李四"}


@dataclass
class World:
    clients: dict[str, APIClient] = field(default_factory=dict)
    ids: dict[str, dict[str, object]] = field(default_factory=dict)  # whose -> ids
    analyst_username: str = ""
    free_record_id: int = 0  # a record without a dispute

    def path(self, row: Row) -> str:
        return row.path.format(**self.ids.get(row.whose, {}))

    def body(self, row: Row) -> tuple[dict | None, str | None]:
        """(data, format) for the call; unique file contents for uploads."""
        if row.method not in ("POST", "PUT", "PATCH"):
            return None, None
        bodies = {
            "/api/v1/keys/": ({"name": "matrix", "scopes": ["query"]}, "json"),
            "/api/v1/keys/{key_id}/rotate/": ({}, "json"),
            "/api/v1/members/{code}/suspend/": ({"reason": "Matrix check."}, "json"),
            "/api/v1/members/{code}/reinstate/": ({"reason": "Matrix check."}, "json"),
            "/api/v1/batches/": (
                {"file": upload_file("matrix.csv", _matrix_batch_csv())},
                "multipart",
            ),
            "/api/v1/batches/{batch_id}/share/": (
                {"username": self.analyst_username},
                "json",
            ),
            "/api/v1/queries/": (
                {**PERSON, "purpose": "loan_approval", "consent_reference": CONSENT},
                "json",
            ),
            "/api/v1/screenings/": (
                {
                    "file": upload_file("persons.csv", _persons_csv()),
                    "purpose": "loan_approval",
                    "consent_reference": CONSENT,
                },
                "multipart",
            ),
            "/api/v1/alerts/{alert_id}/": ({"status": "dismissed"}, "json"),
            # The world's watches are on WATCHED, so this one is new (201).
            "/api/v1/watches/": ({**PERSON, "consent_reference": CONSENT}, "json"),
            "/api/v1/webhooks/": (
                {"url": "https://hooks.example/matrix", "events": ["batch.completed"]},
                "json",
            ),
            "/api/v1/disputes/": (
                {"record_id": self.free_record_id, "claim": "Matrix check."},
                "json",
            ),
            "/api/v1/disputes/{dispute_id}/": ({"outcome": "confirmed"}, "json"),
            "/api/v1/subjects/{subject_id}/statements/": (
                {"text": "Matrix statement."},
                "json",
            ),
            "/api/v1/subjects/{subject_id}/self-report/": ({}, "json"),
        }
        return bodies[row.path]

    def call(self, row: Row):
        data, fmt = self.body(row)
        client = self.clients[row.actor]
        method = getattr(client, row.method.lower())
        if data is None:
            return method(self.path(row))
        return method(self.path(row), data, format=fmt)


def _matrix_batch_csv() -> bytes:
    return csv_bytes([good_row(account_no="MATRIX-1")])


def _persons_csv() -> bytes:
    return csv_bytes([PERSON], columns=("id_type", "id_number", "name"))


def _member_side(code: str) -> dict[str, object]:
    """A member that has furnished a batch (with one rejected row), asked one query
    and run one screening; its staff and keys."""
    member = MemberFactory(code=code, name=f"{code.title()} Lending")
    users = {
        role: UserFactory(
            username=f"{code}-{role}", role=role, member=member, password=None
        )
        for role in MEMBER_USERS
    }
    rows = [
        good_row(account_no=f"{code}-1"),
        good_row(account_no=f"{code}-2", id_number="123"),  # rejected
    ]
    batch = ingest(member, csv_bytes(rows))
    inquiry, _ = query_run(
        actor=users["analyst"],
        member=member,
        data=QueryInput(**PERSON, purpose="loan_approval", consent_reference=CONSENT),
    )
    screening = screening_create(
        actor=users["analyst"],
        member=member,
        handle=io.BytesIO(_persons_csv()),
        filename="persons.csv",
        purpose="loan_approval",
        consent_reference=CONSENT,
    )
    target_key, _ = issue_key(member, scopes=("query",), name="target")
    ingest(member, csv_bytes([good_row(account_no=f"{code}-W", **WATCHED)]))
    watch = watch_create(
        actor=users["analyst"],
        member=member,
        data=WatchInput(id_type="resident_id", consent_reference=CONSENT, **WATCHED),
    )
    webhook, _ = webhook_create(
        actor=users["member_admin"],
        member=member,
        url="https://hooks.example/matrix",
        events=["batch.completed"],
    )
    alert = Alert.objects.create(
        rule=Alert.Rule.ENUMERATION,
        member=member,
        severity=Alert.Severity.MEDIUM,
        window_start=timezone.now() - timedelta(hours=1),
        window_end=timezone.now(),
    )
    return {
        "member": member,
        "users": users,
        "ids": {
            "code": code,
            "batch_id": batch.pk,
            "inquiry_id": inquiry.pk,
            "screening_id": screening.pk,
            "key_id": target_key.pk,
            "alert_id": alert.pk,
            "watch_id": watch.pk,
            "webhook_id": webhook.pk,
        },
    }


def _build_world() -> World:
    own = _member_side("acme")
    other = _member_side("globex")
    world = World(ids={"own": own["ids"], "other": other["ids"]})
    world.analyst_username = own["users"]["analyst"].username
    users = dict(own["users"])
    for role in BUREAU_USERS:
        users[role] = UserFactory(username=role, role=role, member=None, password=None)
    # A dispute on each side's record; Globex's own subject (ID_C) for "other".
    ingest(other["member"], csv_bytes([good_row(account_no="free", id_number=ID_C)]))
    for side in (own, other):
        record = Record.objects.get(account_no=f"{side['ids']['code']}-1")
        dispute = dispute_open(
            record=record, claim="Matrix check.", actor=users["compliance"]
        )
        side["ids"]["dispute_id"] = dispute.pk
    free = Record.objects.get(account_no="free")
    world.free_record_id = free.pk
    own["ids"]["subject_id"] = record.subject_id
    other["ids"]["subject_id"] = free.subject_id
    for actor in ACTORS:
        client = APIClient()
        if actor in users:
            client.force_login(users[actor])
        elif actor.startswith("key:"):
            _, full_key = issue_key(own["member"], scopes=(actor[4:],), name=actor)
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {full_key}")
        world.clients[actor] = client
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


# -- the tests -------------------------------------------------------------------------


def _last_sequence() -> int:
    return AuditEvent.objects.aggregate(last=Max("sequence"))["last"] or 0


def _actions_since(sequence: int) -> list[str]:
    events = AuditEvent.objects.filter(sequence__gt=sequence).order_by("sequence")
    return list(events.values_list("action", flat=True))


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_endpoint_when_called_by_each_actor_answers_and_audits_as_the_matrix(
    world, row
):
    before = _last_sequence()
    response = world.call(row)
    is_json = response.get("Content-Type", "").startswith("application/json")
    body = response.json() if is_json else None
    assert response.status_code == row.expected, f"got {response.status_code} {body}"
    if response.status_code >= 400:
        assert body is not None and body["code"], "errors answer the problem body"
    assert _actions_since(before) == row.audit_expected, "audited actions"


def test_every_api_route_when_resolved_has_a_row_for_every_actor():
    have = {(row.method, row.path, row.whose, row.actor) for row in ROWS}
    missing = []
    for route in api_routes():
        for method in route.methods:
            for whose in ("own", "other") if route.takes_object else ("-",):
                missing.extend(
                    f"{method} {route.template} [{whose}] as {actor}"
                    for actor in ACTORS
                    if (method, route.template, whose, actor) not in have
                )
    assert not missing, (
        "Endpoints without rows in MATRIX (add them, and the policy to "
        "docs/permissions.md):\n" + "\n".join(missing)
    )


def test_every_matrix_row_when_listed_names_a_real_route_and_method():
    real = {(m, route.template) for route in api_routes() for m in route.methods}
    stale = sorted({(row.method, row.path) for row in ROWS} - real)
    assert not stale, f"MATRIX rows for routes that do not exist: {stale}"


# -- the auditor reads everything and changes nothing ---------------------------------

STAFF_READS = sorted(
    {
        (row.method, row.path, row.whose)
        for row in ROWS
        if row.method == "GET" and row.actor == "bureau_admin" and row.expected == 200
    }
)
WRITES = sorted(
    {(row.method, row.path, row.whose) for row in ROWS if row.method != "GET"}
)


def test_auditor_when_reading_what_bureau_staff_may_read_gets_200(world):
    assert STAFF_READS, "the matrix names no GET bureau staff may read"
    for method, path, whose in STAFF_READS:
        row = Row(method, path, whose, "auditor", 200)
        assert world.call(row).status_code == 200, str(row)


def test_auditor_when_writing_anywhere_gets_403(world):
    assert WRITES, "the matrix names no write"
    for method, path, whose in WRITES:
        row = Row(method, path, whose, "auditor", 403)
        before = _last_sequence()
        assert world.call(row).status_code == 403, str(row)
        assert _actions_since(before) == [], f"{row} left an audit event"
