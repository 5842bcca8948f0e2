"""The audit trail is append-only and tamper-evident."""

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from bureau.audit.models import AuditEvent
from bureau.audit.selectors import audit_chain_verify
from bureau.audit.services import AuditDetailsError, audit_record


def _write_events(n: int, actor="test") -> list[AuditEvent]:
    return [
        audit_record(actor=actor, action="test.event", details={"n": i})
        for i in range(n)
    ]


@pytest.mark.django_db
def test_chain_when_events_written_verifies(capsys):
    _write_events(5)
    report = audit_chain_verify()
    assert report.intact and report.events_checked == 5
    call_command("audit_verify")
    assert "5 events verified" in capsys.readouterr().out


@pytest.mark.django_db
def test_chain_when_events_written_links_each_to_previous():
    events = sorted(_write_events(3), key=lambda e: e.sequence)
    assert [e.sequence for e in events] == [1, 2, 3]
    assert events[0].prev_hash == "0" * 64
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash


@pytest.mark.django_db
def test_update_when_attempted_is_refused_by_database():
    event = _write_events(1)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")


@pytest.mark.django_db
def test_delete_when_attempted_is_refused_by_database():
    event = _write_events(1)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()


def _with_trigger_disabled(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only"
        )
        cursor.execute(sql, params)
        cursor.execute(
            "ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only"
        )


@pytest.mark.django_db
def test_verify_when_row_altered_names_its_sequence():
    events = sorted(_write_events(4), key=lambda e: e.sequence)
    _with_trigger_disabled(
        "UPDATE audit_auditevent SET details = %s WHERE sequence = %s", ['{"n": 99}', 3]
    )
    report = audit_chain_verify()
    assert report.first_broken_sequence == 3
    with pytest.raises(CommandError, match="sequence 3"):
        call_command("audit_verify")
    assert events  # the earlier rows still verify: the break is at 3, not 1


@pytest.mark.django_db
def test_verify_when_row_deleted_reports_gap():
    _write_events(4)
    _with_trigger_disabled("DELETE FROM audit_auditevent WHERE sequence = %s", [2])
    assert audit_chain_verify().first_broken_sequence == 2


@pytest.mark.django_db
def test_details_when_identity_number_given_are_refused():
    with pytest.raises(AuditDetailsError):
        audit_record(
            actor="test", action="test.event", details={"id": "11010519491231002X"}
        )
    with pytest.raises(AuditDetailsError):
        audit_record(
            actor="test", action="test.event", details={"phone": "13812345678"}
        )


@pytest.mark.django_db(transaction=True)
def test_chain_when_written_concurrently_does_not_fork():
    errors = []

    def writer():
        try:
            _write_events(10)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    report = audit_chain_verify()
    assert report.intact and report.events_checked == 40


def _advisory_lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_writer_when_waiting_for_the_lock_chains_to_the_event_committed_meanwhile():
    """The chain head is read after the lock is granted, not before the wait."""
    import time

    holding, release = threading.Event(), threading.Event()
    events: dict[str, AuditEvent] = {}
    errors = []

    def first():
        try:
            with transaction.atomic():
                events["first"] = audit_record(actor="alice", action="test.first")
                holding.set()
                release.wait(10)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def second():
        try:
            events["second"] = audit_record(actor="bob", action="test.second")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert holding.wait(10)
    threads[1].start()
    deadline = time.monotonic() + 10
    while _advisory_lock_waiters() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    for thread in threads:
        thread.join()
    assert not errors
    assert events["second"].sequence == events["first"].sequence + 1
    assert events["second"].prev_hash == events["first"].hash
    assert audit_chain_verify().intact
