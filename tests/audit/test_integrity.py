"""The audit trail survives whoever owns the database: each attack is done for
real in SQL, and `audit_verify` must fail and say what it found."""

import json
import os

import pytest
from django.db import DatabaseError, connection, transaction

from bureau.audit.chain import GENESIS_HASH, chain_hash
from bureau.audit.keys import chain_keys
from bureau.audit.models import AuditEvent
from bureau.audit.services import audit_record
from tests.audit.attacks import (
    as_owner,
    plain_sha256,
    rewrite_and_rehash,
    verify,
    with_key,
)


def _events(n: int) -> None:
    for i in range(n):
        audit_record(actor="test", action="test.event", details={"n": i})


def _checkpoint() -> None:
    passed, said = verify("--checkpoint")
    assert passed, said
    assert "checkpoint written" in said


pytestmark = pytest.mark.django_db


def test_truncate_when_attempted_is_refused_by_database():
    _events(2)
    with (
        pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == 2


def test_verify_when_intact_with_checkpoints_passes():
    _events(3)
    _checkpoint()
    _events(2)
    _checkpoint()
    _events(1)
    passed, said = verify("--require-checkpoint")
    assert passed, said
    assert (
        "audit chain intact: 6 events verified (v1: 6); checkpoints verified: 2" in said
    )
    assert "latest checkpoint: sequence 5" in said


def test_verify_when_truncated_behind_the_trigger_reports_truncated():
    _events(5)
    _checkpoint()
    as_owner(("TRUNCATE audit_auditevent", []))
    assert not AuditEvent.objects.exists()
    passed, said = verify()
    assert not passed
    assert "[truncated] the audit table holds no events" in said
    assert "recorded 5 events up to sequence 5" in said


def test_verify_when_tail_deleted_reports_tail_deleted():
    _events(6)
    _checkpoint()
    as_owner(("DELETE FROM audit_auditevent WHERE sequence > 3", []))
    passed, said = verify()
    assert not passed
    assert "[tail_deleted] events after sequence 3 are gone" in said
    assert "recorded the trail up to sequence 6 (6 events)" in said


def test_verify_when_middle_event_deleted_reports_gap():
    _events(5)
    _checkpoint()
    as_owner(("DELETE FROM audit_auditevent WHERE sequence = 3", []))
    passed, said = verify()
    assert not passed
    assert "[gap] 1 event missing from the sequence, at 3" in said
    # The checkpoint counted what is gone too.
    assert "counted 5 events up to sequence 5; the trail now holds 4" in said


def test_verify_when_first_events_deleted_reports_gap_from_one():
    _events(4)
    as_owner(("DELETE FROM audit_auditevent WHERE sequence <= 2", []))
    passed, said = verify()
    assert not passed
    assert "[gap] 2 events missing from the sequence, at 1–2" in said


@pytest.mark.parametrize("claimed_version", [None, 0], ids=["same-version", "legacy"])
def test_verify_when_rewritten_and_rehashed_with_plain_sha256_reports_rewritten(
    claimed_version,
):
    """No checkpoint covers the events: the key alone shows the rewrite, whether
    the rehashed events keep their key version or claim the legacy hash."""
    _events(5)
    rewrite_and_rehash(3, {"n": 99}, plain_sha256, version=claimed_version)
    assert AuditEvent.objects.get(sequence=3).details == {"n": 99}
    passed, said = verify()
    assert not passed
    if claimed_version is None:
        assert "[rewritten] 3 events do not match their hash" in said
    else:
        assert "[rewritten] 3 events carry the unkeyed legacy hash after keyed" in said
    assert "at 3–5" in said
    assert "[gap]" not in said and "link" not in said  # the links were mended


def test_verify_when_rehashed_with_a_wrong_key_reports_rewritten():
    _events(4)
    rewrite_and_rehash(2, {"n": 99}, with_key(b"a key that is not the chain key"))
    passed, said = verify()
    assert not passed
    assert "[rewritten] 3 events do not match their hash" in said
    assert "at 2–4" in said


def test_verify_when_key_holder_rewrites_before_a_checkpoint_reports_rewritten():
    """Even with the chain key, history before a checkpoint cannot be changed."""
    _events(5)
    _checkpoint()
    key = chain_keys().key(1)
    rewrite_and_rehash(2, {"n": 99}, with_key(key))
    passed, said = verify()
    assert not passed
    assert "[rewritten] event 5 differs from checkpoint" in said
    assert "do not match their hash" not in said  # the key made every link


def test_verify_when_event_edited_in_place_reports_rewritten_and_checkpoint():
    _events(4)
    _checkpoint()
    as_owner(
        (
            "UPDATE audit_auditevent SET action = 'test.other' WHERE sequence = 4",
            [],
        )
    )
    passed, said = verify()
    assert not passed
    assert "[rewritten] 1 event does not match its hash" in said
    assert "at 4" in said


def _only_checkpoint(directory) -> str:
    [path] = [p for p in directory.iterdir() if not p.name.startswith(".")]
    return path


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body: {**body, "event_count": body["event_count"] + 10},
        lambda body: {**body, "sequence": body["sequence"] + 10},
        lambda body: {**body, "head_hash": "f" * 64},
        lambda body: {**body, "signature": ""},
    ],
    ids=["count", "sequence", "head", "unsigned"],
)
def test_verify_when_checkpoint_file_tampered_reports_checkpoint_invalid(
    checkpoint_dir, tamper
):
    _events(3)
    _checkpoint()
    path = _only_checkpoint(checkpoint_dir)
    body = json.loads(path.read_text())
    os.chmod(path, 0o644)
    path.write_text(json.dumps(tamper(body)))
    passed, said = verify()
    assert not passed
    assert f"[checkpoint_invalid] checkpoint {path.name} proves nothing" in said
    assert "the signature does not match" in said


def test_verify_when_checkpoint_forged_with_another_key_reports_invalid(
    checkpoint_dir, settings
):
    """A checkpoint claiming more events than there are, signed by a key that
    is not the checkpoint key: invalid, and not taken as evidence either."""
    _events(2)
    settings.BUREAU_AUDIT_CHECKPOINT_KEY = "11" * 32
    _events(1)
    _checkpoint()
    settings.BUREAU_AUDIT_CHECKPOINT_KEY = "22" * 32
    passed, said = verify()
    assert not passed
    assert "[checkpoint_invalid]" in said and "signature does not match" in said
    assert "[tail_deleted]" not in said


def test_verify_when_checkpoint_not_json_or_unknown_key_reports_invalid(
    checkpoint_dir, settings
):
    _events(2)
    _checkpoint()
    (checkpoint_dir / "000000000009-junk.json").write_text("{not json")
    settings.BUREAU_AUDIT_CHECKPOINT_KEY_VERSION = 7  # the file says version 1
    passed, said = verify()
    assert not passed
    assert "000000000009-junk.json proves nothing: not valid JSON" in said
    assert "signed with checkpoint key version 1, which is not configured" in said


def test_verify_without_checkpoint_warns_and_can_be_required():
    _events(2)
    passed, said = verify()
    assert passed and "warning: no checkpoint in" in said
    passed, said = verify("--require-checkpoint")
    assert not passed and "no valid checkpoint" in said


def test_checkpoint_when_chain_has_not_moved_writes_nothing(checkpoint_dir):
    _events(2)
    _checkpoint()
    passed, said = verify("--checkpoint")
    assert passed and "no new event since the latest checkpoint" in said
    assert len(list(checkpoint_dir.iterdir())) == 1


def test_checkpoint_when_chain_broken_is_not_written(checkpoint_dir):
    _events(3)
    as_owner(("DELETE FROM audit_auditevent WHERE sequence = 2", []))
    passed, _ = verify("--checkpoint")
    assert not passed
    assert not checkpoint_dir.exists() or not list(checkpoint_dir.iterdir())


# --- legacy events, made before the chain was keyed --------------------------------


def _legacy_events(n: int) -> None:
    """Events as the unkeyed code wrote them: version 0, plain SHA-256."""
    from django.utils import timezone

    prev = GENESIS_HASH
    statements = []
    for sequence in range(1, n + 1):
        fields = {
            "sequence": sequence,
            "created_at": timezone.now(),
            "actor_type": "system",
            "actor_user_id": None,
            "actor_key_id": None,
            "actor_label": "old",
            "member_id": None,
            "action": "test.legacy",
            "object_type": "",
            "object_id": "",
            "request_id": "",
            "ip": None,
            "details": {"n": sequence},
        }
        event_hash = chain_hash(prev, fields)
        statements.append(
            (
                "INSERT INTO audit_auditevent (sequence, created_at, actor_type,"
                " actor_label, action, object_type, object_id, request_id,"
                " details, prev_hash, hash, chain_key_version)"
                " VALUES (%s, %s, 'system', 'old', 'test.legacy', '', '', '',"
                " %s::jsonb, %s, %s, 0)",
                [
                    sequence,
                    fields["created_at"],
                    json.dumps(fields["details"]),
                    prev,
                    event_hash,
                ],
            )
        )
        prev = event_hash
    as_owner(*statements)


def test_verify_when_legacy_events_precede_keyed_ones_passes():
    _legacy_events(3)
    _events(2)
    passed, said = verify()
    assert passed, said
    assert "5 events verified (v0: 3, v1: 2)" in said


def test_verify_when_whole_chain_passed_off_as_legacy_a_checkpoint_shows_it():
    """Rehashing every keyed event as legacy needs no key, and a chain that is
    legacy throughout verifies on its own: the checkpoint is what shows it."""
    _legacy_events(3)
    _events(2)
    _checkpoint()
    rewrite_and_rehash(2, {"n": 99}, plain_sha256, version=0)
    passed, said = verify()
    assert not passed
    assert "[rewritten] event 5 differs from checkpoint" in said


def test_verify_when_legacy_prefix_rewritten_and_link_mended_reports_rewritten():
    _legacy_events(3)
    _events(1)
    legacy = AuditEvent.objects.filter(sequence__lte=3).order_by("sequence")
    rows = list(legacy.values())
    rows[1]["details"] = {"n": 99}
    prev = rows[0]["hash"]
    statements = []
    for row in rows[1:]:
        row["prev_hash"], row["hash"] = prev, chain_hash(prev, row)
        statements.append(
            (
                "UPDATE audit_auditevent SET details = %s::jsonb, prev_hash = %s,"
                " hash = %s WHERE sequence = %s",
                [json.dumps(row["details"]), prev, row["hash"], row["sequence"]],
            )
        )
        prev = row["hash"]
    statements.append(
        ("UPDATE audit_auditevent SET prev_hash = %s WHERE sequence = 4", [prev])
    )
    as_owner(*statements)
    passed, said = verify()
    assert not passed
    assert "[rewritten] 1 event does not match its hash" in said
    assert "at 4" in said


def test_verify_when_in_chinese_keeps_the_codes():
    """Operators read the findings in zh-hans (the default language); scripts
    match the codes, which are not translated."""
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.utils import translation

    _events(3)
    _checkpoint()
    as_owner(("DELETE FROM audit_auditevent WHERE sequence > 1", []))
    with translation.override("zh-hans"), pytest.raises(CommandError) as raised:
        call_command("audit_verify")
    said = str(raised.value)
    assert said.startswith("审计链不完整")
    assert "[tail_deleted] 序号 1 之后的事件已不存在" in said
