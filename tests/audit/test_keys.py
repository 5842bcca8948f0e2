"""The chain and checkpoint keys: rotation, where the secret goes (never into
the database), the system check, and the checkpoint files themselves."""

import logging
import stat
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bureau.audit.checkpoints import checkpoint_sign, checkpoint_store
from bureau.audit.checks import audit_keys_configured
from bureau.audit.keys import chain_keys
from bureau.audit.models import AuditEvent
from bureau.audit.services import audit_record
from reports.models import Inquiry
from tests.audit.attacks import as_owner, verify
from tests.factories import an_inquiry

SECRET = "audit-chain-secret-" + uuid.uuid4().hex


def _events(n: int, action: str = "test.event") -> None:
    for i in range(n):
        audit_record(actor="test", action=action, details={"n": i})


def _versions() -> list[int]:
    return list(
        AuditEvent.objects.order_by("sequence").values_list(
            "chain_key_version", flat=True
        )
    )


@pytest.mark.django_db
def test_rotation_when_new_version_is_current_old_events_still_verify(settings):
    settings.BUREAU_AUDIT_CHAIN_KEYS = {1: "first key"}
    settings.BUREAU_AUDIT_CHAIN_KEY_VERSION = 1
    _events(2)
    settings.BUREAU_AUDIT_CHAIN_KEYS = {1: "first key", 2: "second key"}
    settings.BUREAU_AUDIT_CHAIN_KEY_VERSION = 2
    _events(3)
    assert _versions() == [1, 1, 2, 2, 2]
    passed, said = verify()
    assert passed, said
    assert "5 events verified (v1: 2, v2: 3)" in said


@pytest.mark.django_db
def test_rotation_when_old_key_dropped_its_events_are_reported_unverifiable(settings):
    settings.BUREAU_AUDIT_CHAIN_KEYS = {1: "first key"}
    _events(2)
    settings.BUREAU_AUDIT_CHAIN_KEYS = {2: "second key"}
    settings.BUREAU_AUDIT_CHAIN_KEY_VERSION = 2
    _events(1)
    passed, said = verify()
    assert not passed
    assert "[unknown_key] 2 events were linked with chain key version 1" in said
    assert "at 1–2" in said


@pytest.mark.django_db
def test_chain_key_when_longer_than_a_block_links_as_hmac_does(settings):
    """HMAC hashes a key longer than SHA-256's 64-byte block first: PostgreSQL's
    hash from the pads must still be Python's HMAC."""
    settings.BUREAU_AUDIT_CHAIN_KEYS = {1: "k" * 200}
    _events(3)
    passed, said = verify()
    assert passed, said


@pytest.mark.django_db
def test_chain_key_when_changed_without_a_new_version_fails_verification(settings):
    """The version is what says which key: a key swapped under the same version
    leaves the earlier events unverifiable, and audit_verify says so."""
    settings.BUREAU_AUDIT_CHAIN_KEYS = {1: "first key"}
    _events(2)
    settings.BUREAU_AUDIT_CHAIN_KEYS = {1: "another key"}
    passed, said = verify()
    assert not passed and "[rewritten] 2 events do not match their hash" in said


def test_chain_keys_when_misconfigured_are_refused(settings):
    from django.core.exceptions import ImproperlyConfigured

    for keys, current in (({}, 1), ({1: ""}, 1), ({0: "k"}, 0), ({1: "a", 3: "b"}, 1)):
        settings.BUREAU_AUDIT_CHAIN_KEYS = keys
        settings.BUREAU_AUDIT_CHAIN_KEY_VERSION = current
        with pytest.raises(ImproperlyConfigured):
            chain_keys()


def test_system_check_when_keys_missing_names_them(settings):
    assert audit_keys_configured(None) == []
    settings.BUREAU_AUDIT_CHAIN_KEYS = {1: ""}
    settings.BUREAU_AUDIT_CHECKPOINT_KEY = ""
    assert [error.id for error in audit_keys_configured(None)] == [
        "bureau_audit.E001",
        "bureau_audit.E002",
    ]
    settings.BUREAU_AUDIT_CHECKPOINT_KEY = "not hex"
    assert "BUREAU_AUDIT_CHECKPOINT_KEY must be 32 bytes" in str(
        audit_keys_configured(None)
    )


@pytest.mark.django_db
def test_audit_write_when_chain_key_missing_is_refused(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.BUREAU_AUDIT_CHAIN_KEYS = {}
    with pytest.raises(ImproperlyConfigured, match="BUREAU_AUDIT_CHAIN_KEY"):
        audit_record(actor="test", action="test.event")
    assert not AuditEvent.objects.exists()


# --- the secret never reaches the database nor the logs ------------------------------


def _secret_forms() -> list[str]:
    keys = chain_keys()
    outer, inner = keys.current_pads
    forms = [SECRET, SECRET.encode().hex()]
    for pad in (outer, inner):
        forms += [pad.hex(), repr(bytes(pad)), bytes(pad).decode("latin-1")]
    return forms


@pytest.mark.django_db
def test_chain_key_when_events_written_reaches_no_table_function_or_log(
    settings, caplog
):
    """The hot path's statement (an inquiry and its event) with every query
    logged: the key is in no log line, no query log, no row, no function or
    trigger definition, no prepared statement's text."""
    settings.BUREAU_AUDIT_CHAIN_KEYS = {1: SECRET}
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")  # INFO in settings
    with CaptureQueriesContext(connection) as queries:
        for _ in range(6):  # past the prepare threshold: prepared on the server
            inquiry = Inquiry(**an_inquiry(None, id=uuid.uuid4()))
            audit_record(actor="test", action="query.run", obj=inquiry, insert_obj=True)
    assert any("audit_chain_head" in q["sql"] for q in queries.captured_queries)
    assert any("args=" in r.getMessage() for r in caplog.records)  # it did log
    logged = caplog.text + repr(queries.captured_queries)
    with connection.cursor() as cursor:
        cursor.execute("SELECT string_agg(e::text, ' ') FROM audit_auditevent e")
        stored = cursor.fetchone()[0]
        cursor.execute(
            "SELECT string_agg(concat(prosrc, ' ', array_to_string(proconfig, ',')),"
            " ' ') FROM pg_proc"
        )
        functions = cursor.fetchone()[0]
        cursor.execute("SELECT string_agg(pg_get_triggerdef(oid), ' ') FROM pg_trigger")
        triggers = cursor.fetchone()[0]
        cursor.execute("SELECT string_agg(statement, ' ') FROM pg_prepared_statements")
        prepared = cursor.fetchone()[0] or ""
        cursor.execute("SELECT string_agg(query, ' ') FROM pg_stat_activity")
        activity = cursor.fetchone()[0] or ""
    assert "audit_chain_head" in prepared  # the statement was prepared
    for form in _secret_forms():
        for where, text in (
            ("logs", logged),
            ("rows", stored),
            ("functions", functions),
            ("triggers", triggers),
            ("prepared statements", prepared),
            ("pg_stat_activity", activity),
        ):
            assert form not in text, f"chain key found in {where}"


def test_secret_bytes_when_printed_hide_their_value():
    outer, _ = chain_keys().current_pads
    assert repr(outer) == str(outer) == "<secret>"
    assert repr([outer]) == "[<secret>]"
    assert bytes(outer) == outer and len(outer) == 64


# --- checkpoint files -------------------------------------------------------------


def test_checkpoint_file_when_stored_is_read_only_and_never_replaced(checkpoint_dir):
    checkpoint = checkpoint_sign(sequence=3, head_hash="a" * 64, event_count=3)
    path = checkpoint_store(checkpoint)
    assert path.parent == checkpoint_dir
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    original = path.read_bytes()
    with pytest.raises(FileExistsError):
        checkpoint_store(checkpoint)
    assert path.read_bytes() == original
    assert [p.name for p in checkpoint_dir.iterdir()] == [path.name]  # no temp left


@pytest.mark.django_db
def test_checkpoint_when_written_holds_what_was_asked(checkpoint_dir):
    import json

    _events(4)
    passed, said = verify("--checkpoint")
    assert passed, said
    [path] = list(checkpoint_dir.iterdir())
    body = json.loads(path.read_text())
    head = AuditEvent.objects.order_by("-sequence").first()
    assert body["sequence"] == 4 and body["event_count"] == 4
    assert body["head_hash"] == head.hash
    assert body["key_version"] == 1 and body["format"] == "bureau-audit-checkpoint/1"
    assert set(body) == {
        "format",
        "sequence",
        "head_hash",
        "event_count",
        "created_at",
        "key_version",
        "signature",
    }


@pytest.mark.django_db
def test_checkpoint_key_when_rotated_old_checkpoints_verify_with_public_key(settings):
    from bureau.audit.keys import checkpoint_keys, public_hex

    _events(2)
    verify("--checkpoint")
    old_public = public_hex(checkpoint_keys().public[1])
    settings.BUREAU_AUDIT_CHECKPOINT_KEY = "33" * 32
    settings.BUREAU_AUDIT_CHECKPOINT_KEY_VERSION = 2
    settings.BUREAU_AUDIT_CHECKPOINT_PUBLIC_KEYS = {1: old_public}
    _events(1)
    passed, said = verify("--checkpoint")
    assert passed, said
    passed, said = verify()
    assert passed and "checkpoints verified: 2" in said


def test_keygen_when_run_prints_keys_that_configure(settings, capsys):
    call_command("audit_keygen")
    lines = dict(
        line.split("=", 1)
        for line in capsys.readouterr().out.splitlines()
        if not line.startswith("#")
    )
    settings.BUREAU_AUDIT_CHECKPOINT_KEY = lines["BUREAU_AUDIT_CHECKPOINT_KEY"]
    settings.BUREAU_AUDIT_CHAIN_KEYS = {1: lines["BUREAU_AUDIT_CHAIN_KEY"]}
    assert audit_keys_configured(None) == []
    call_command("audit_keygen", "--public")
    assert capsys.readouterr().out.startswith("1=")


# --- beat, and the test runner's flush ----------------------------------------------


def test_beat_schedule_when_loaded_checkpoints_every_configured_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["maintenance-audit-checkpoint"]
    assert entry["task"] == "bureau.audit.tasks.maintenance_audit_checkpoint"
    assert entry["schedule"] == timedelta(minutes=15)


@pytest.mark.celery_worker
def test_beat_task_when_run_by_a_worker_extends_the_checkpoints(
    celery_worker, checkpoint_dir, caplog
):
    from bureau.audit.tasks import maintenance_audit_checkpoint

    _events(3)
    first = maintenance_audit_checkpoint.delay().get(timeout=30)
    _events(2)
    second = maintenance_audit_checkpoint.delay().get(timeout=30)
    assert first and second and first != second
    assert maintenance_audit_checkpoint.delay().get(timeout=30) is None  # unchanged
    passed, said = verify()
    assert passed and "checkpoints verified: 2" in said
    # A gap since the latest checkpoint: the task vouches for nothing more.
    _events(3)
    as_owner(("DELETE FROM audit_auditevent WHERE sequence = 7", []))
    assert maintenance_audit_checkpoint.delay().get(timeout=30) is None
    assert len(list(checkpoint_dir.iterdir())) == 2
    assert "audit checkpoint refused" in caplog.text and "[gap]" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_flush_when_in_dev_empties_the_audit_table_and_in_production_is_refused(
    settings,
):
    _events(2)
    settings.IS_DEV = False
    with pytest.raises(CommandError):
        call_command("flush", interactive=False, verbosity=0)
    assert AuditEvent.objects.count() == 2
    settings.IS_DEV = True
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    with connection.cursor() as cursor:  # and the guard is back
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = 'audit_event_no_truncate'"
        )
        assert cursor.fetchone()[0] == "O"
