"""The small dataset the API fuzz run works on: every object an operation of the
API can name, made through the services (and the real ingest path), so that
schemathesis reaches past the 404s into the views' real work.

Run inside a configured Django (fuzz/run.py sets it up on a fresh database).
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.test import Client
from django.utils import timezone

ACTOR = "command:fuzz"
MEMBER_CODES = ("acme", "globex")
VICTIM_CODE = "initech"  # suspended and reinstated by the fuzzer, nobody else
# A session login is what these roles use; the backend the login pages use.
_BACKEND = "members.backends.MemberModelBackend"


@dataclass
class Dataset:
    """What the fuzzer is given: credentials and the ids of existing objects."""

    key: str  # acme's key with every scope
    sessions: dict[str, str]  # role -> session cookie value
    ids: dict[str, int | str] = field(default_factory=dict)


def _session(user) -> str:
    client = Client()
    client.force_login(user, backend=_BACKEND)
    return client.cookies["sessionid"].value


def _furnish(members: dict) -> dict[str, Path]:
    """Generated records for both members through batch_create + batch_ingest;
    a few rows are defective, so batches have errors to list and download."""
    from bureau.records.generator import GeneratorConfig, write_member_files
    from bureau.records.services.aggregate import profiles_rebuild
    from bureau.records.services.ingest import batch_ingest
    from bureau.records.services.upload import batch_create

    config = GeneratorConfig(
        subjects=40,
        rows=120,
        seed=8,
        member_codes=list(MEMBER_CODES),
        error_rate=0.05,
        today=timezone.localdate(),
    )
    folder = Path(tempfile.mkdtemp(prefix="bureau-fuzz-"))
    files = write_member_files(config, folder)
    for code, path in files.items():
        with path.open("rb") as handle:
            batch, _ = batch_create(
                member=members[code], handle=handle, filename=path.name, actor=ACTOR
            )
        batch_ingest(batch_id=batch.pk)
    profiles_rebuild()
    return files


def _persons_on_file(path: Path, batch, count: int) -> list[dict[str, str]]:
    """`count` persons of accepted rows of `batch`, read back from its file (Bureau
    keeps identity numbers hashed only)."""
    from bureau.records.models import BatchError

    rejected = set(BatchError.objects.filter(batch=batch).values_list("row", flat=True))
    persons: dict[str, dict[str, str]] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=1):
            if number not in rejected and row["role"] == "borrower":
                persons.setdefault(
                    row["id_number"],
                    {key: row[key] for key in ("id_type", "id_number", "name")},
                )
            if len(persons) == count:
                return list(persons.values())
    raise RuntimeError("too few accepted borrower rows in the generated file")


def seed() -> Dataset:
    from bureau.audit.models import Alert
    from bureau.records.models import Batch, Record
    from bureau.records.services.disputes import dispute_open
    from bureau.records.services.statements import statement_add
    from members.models import Member, Role
    from members.principals import KeyPrincipal
    from members.services import api_key_create, member_create, user_create
    from reports.services import query as query_service
    from reports.services import watches as watch_service
    from reports.services import webhooks as webhook_service
    from reports.services.screening import screening_create

    members = {
        code: member_create(code=code, name=f"{code.title()} Lending", actor=ACTOR)
        for code in (*MEMBER_CODES, VICTIM_CODE)
    }
    acme = members["acme"]
    users = {
        Role.MEMBER_ADMIN: user_create(
            username="alice", role=Role.MEMBER_ADMIN, member=acme, actor=ACTOR
        )[0],
        Role.COMPLIANCE: user_create(
            username="carol", role=Role.COMPLIANCE, member=None, actor=ACTOR
        )[0],
        Role.AUDITOR: user_create(
            username="audrey", role=Role.AUDITOR, member=None, actor=ACTOR
        )[0],
    }
    scopes = ["upload", "query", "monitor"]
    key, full_key = api_key_create(member=acme, name="fuzz", scopes=scopes, actor=ACTOR)
    spare_keys = [
        api_key_create(member=acme, name=name, scopes=["query"], actor=ACTOR)[0]
        for name in ("fuzz-revoke", "fuzz-rotate")
    ]
    files = _furnish(members)
    batch = Batch.objects.filter(member=acme).latest("pk")
    person, other_person = _persons_on_file(files["acme"], batch, 2)
    actor = KeyPrincipal(key)

    answer = query_service.query_answer(
        actor=actor,
        member=acme,
        data=query_service.QueryInput(
            **person, purpose="loan_approval", consent_reference="FUZZ-1"
        ),
    )
    watches = [
        watch_service.watch_create(
            actor=actor,
            member=acme,
            data=watch_service.WatchInput(**someone, consent_reference="FUZZ-W"),
        )
        for someone in (person, other_person)
    ]
    webhooks = [
        webhook_service.webhook_create(
            actor=actor,
            member=acme,
            url=f"http://127.0.0.1:9/fuzz-{n}",
            events=["batch.completed"],
        )[0]
        for n in (1, 2)
    ]
    compliance = users[Role.COMPLIANCE]
    record = Record.objects.filter(member=acme).order_by("pk").first()
    dispute = dispute_open(record=record, claim="Not my loan.", actor=compliance)
    statement_add(subject=record.subject, text="I repaid in full.", actor=compliance)
    with tempfile.TemporaryFile() as handle:
        handle.write(
            "id_type,id_number,name\n{id_type},{id_number},{name}\n".format(
                **person
            ).encode()
        )
        handle.seek(0)
        screening = screening_create(
            actor=actor,
            member=acme,
            handle=handle,
            filename="persons.csv",
            purpose="post_loan_management",
            consent_reference="FUZZ-S",
        )
    now = timezone.now()
    alert = Alert.objects.create(
        rule=Alert.Rule.VOLUME_SPIKE,
        severity=Alert.Severity.LOW,
        member=acme,
        window_start=now - timedelta(hours=1),
        window_end=now,
        evidence={"queries": 1},
    )
    return Dataset(
        key=full_key,
        sessions={role.value: _session(user) for role, user in users.items()},
        ids={
            "batch_id": batch.pk,
            "inquiry_id": answer["inquiry_id"],
            "watch_id": watches[0].pk,
            "watch_id_delete": watches[1].pk,
            "webhook_id": webhooks[0].pk,
            "webhook_id_delete": webhooks[1].pk,
            "dispute_id": dispute.pk,
            "subject_id": record.subject_id,
            "screening_id": screening.pk,
            "alert_id": alert.pk,
            "key_id": spare_keys[0].pk,
            "key_id_rotate": spare_keys[1].pk,
            "member_code": Member.objects.get(code=VICTIM_CODE).code,
        },
    )
