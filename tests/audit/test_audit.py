"""The audit trail is append-only and tamper-evident."""

import threading
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, DataError, IntegrityError, connection, transaction
from django.utils import translation
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bureau.audit.chain import GENESIS_HASH, keyed_chain_hash
from bureau.audit.keys import chain_keys
from bureau.audit.models import AuditEvent
from bureau.audit.selectors import audit_chain_verify
from bureau.audit.services import AuditDetailsError, audit_record
from members.models import Member
from reports.models import Inquiry
from tests.conftest import db_thread, wait_for_advisory_lock_waiter
from tests.factories import an_inquiry


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
    with translation.override("en"):
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
    assert report.codes == {"rewritten"}
    with (
        translation.override("en"),
        pytest.raises(CommandError, match=r"\[rewritten\] .*, at 3$"),
    ):
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
    errors: list[Exception] = []
    threads = [db_thread(lambda: _write_events(10), errors) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    report = audit_chain_verify()
    assert report.intact and report.events_checked == 40


@pytest.mark.django_db(transaction=True)
def test_writer_when_waiting_for_the_lock_chains_to_the_event_committed_meanwhile():
    """The chain head is read after the lock is granted, not before the wait."""
    holding, release = threading.Event(), threading.Event()
    events: dict[str, AuditEvent] = {}
    errors: list[Exception] = []

    def first():
        with transaction.atomic():
            events["first"] = audit_record(actor="alice", action="test.first")
            holding.set()
            release.wait(10)

    def second():
        events["second"] = audit_record(actor="bob", action="test.second")

    threads = [db_thread(first, errors), db_thread(second, errors)]
    threads[0].start()
    assert holding.wait(10)
    threads[1].start()
    wait_for_advisory_lock_waiter()
    release.set()
    for thread in threads:
        thread.join()
    assert not errors
    assert events["second"].sequence == events["first"].sequence + 1
    assert events["second"].prev_hash == events["first"].hash
    assert audit_chain_verify().intact


# --- one statement: the database numbers and hashes the event ----------------------

# Text as it reaches an event: PostgreSQL holds no NUL character, and UTF-8 no lone
# surrogate (request input with either is refused before it gets here).
_TEXT = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))


@pytest.mark.django_db
@settings(max_examples=40, deadline=None)
@given(
    label=st.text(_TEXT, max_size=40),
    details=st.dictionaries(
        st.text(_TEXT, max_size=8),
        st.one_of(
            st.text(_TEXT, max_size=30),
            st.integers(-(2**40), 2**40),
            st.booleans(),
            st.none(),
            st.lists(st.text(_TEXT, max_size=5), max_size=3),
            st.floats(
                allow_nan=False, allow_infinity=False, max_value=1e15, min_value=-1e15
            ),
        ),
        max_size=4,
    ),
)
def test_hash_when_computed_by_the_database_matches_keyed_chain_hash(label, details):
    """PostgreSQL appends the sequence to the canonical JSON Python sent and
    computes the HMAC from the key's pads: for any text (CJK, emoji, quotes,
    escapes) the result is `keyed_chain_hash`."""
    try:
        event = audit_record(actor=label, action="test.event", details=details)
    except AuditDetailsError:
        assume(False)  # digits shaped like an identity number: refused, rightly
    fields = AuditEvent.objects.values().get(pk=event.pk)
    key = chain_keys().key(fields["chain_key_version"])
    assert fields["chain_key_version"] == 1
    assert event.hash == fields["hash"]
    assert fields["hash"] == keyed_chain_hash(key, event.prev_hash, fields)
    assert event.sequence == fields["sequence"]


@pytest.mark.django_db
def test_first_event_when_trail_is_empty_links_to_genesis():
    event = audit_record(actor="test", action="test.event")
    assert (event.sequence, event.prev_hash) == (1, GENESIS_HASH)
    assert AuditEvent.objects.get().hash == event.hash


def _inquiry(**overrides) -> Inquiry:
    return Inquiry(**an_inquiry(None, **{"id": uuid.uuid4(), **overrides}))


@pytest.mark.django_db
def test_insert_obj_when_given_writes_row_and_event_in_one_statement(
    django_assert_num_queries,
):
    inquiry = _inquiry()
    with django_assert_num_queries(1):
        event = audit_record(
            actor="test", action="query.run", obj=inquiry, insert_obj=True
        )
    assert not inquiry._state.adding
    assert Inquiry.objects.get().pk == inquiry.pk
    assert (event.object_type, event.object_id) == ("reports.inquiry", str(inquiry.pk))
    assert audit_chain_verify().intact


# Autocommit, no transaction block around the call: what keeps the two rows
# together is the single statement itself.
@pytest.mark.django_db(transaction=True)
def test_insert_obj_when_event_fails_leaves_no_row():
    """The database refuses the event (an action longer than its column): the
    inquiry written by the same statement goes too."""
    with pytest.raises(DataError):
        audit_record(actor="test", action="x" * 65, obj=_inquiry(), insert_obj=True)
    assert not Inquiry.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_insert_obj_when_row_fails_leaves_no_event():
    first = _inquiry()
    audit_record(actor="test", action="query.run", obj=first, insert_obj=True)
    with pytest.raises(IntegrityError):
        audit_record(
            actor="test",
            action="query.run",
            obj=_inquiry(id=first.pk),  # the same primary key
            insert_obj=True,
        )
    assert AuditEvent.objects.count() == Inquiry.objects.count() == 1
    assert audit_chain_verify().intact


@pytest.mark.django_db
def test_insert_obj_when_id_comes_from_database_saves_then_audits():
    """A model with an auto id cannot go in the statement (no RETURNING to read
    from a CTE): it is saved first, in one transaction with its event."""
    member = Member(code="auto-id", name="Auto id")
    event = audit_record(
        actor="test", action="member.create", obj=member, insert_obj=True
    )
    assert member.pk is not None
    assert event.object_id == str(member.pk)
    assert audit_chain_verify().intact


@pytest.mark.parametrize("version", [0, 1, 300])
def test_canonical_before_sequence_when_number_appended_is_the_canonical_form(
    version,
):
    from datetime import UTC, datetime

    from bureau.audit.chain import canonical, canonical_before_sequence

    fields = {
        "created_at": datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
        "actor_type": "system",
        "actor_user_id": None,
        "actor_key_id": None,
        "actor_label": '“引号” \\ "quotes"',
        "member_id": 7,
        "action": "test.event",
        "object_type": "",
        "object_id": "",
        "request_id": "",
        "ip": None,
        "details": {"z": [1, "二"], "a": {"nested": True}},
        "chain_key_version": version,
    }
    head = canonical_before_sequence(fields)
    # Keyed forms name their key version; the legacy form is as it always was.
    assert ('"chain_key_version"' in head) == (version != 0)
    for sequence in (1, 42, 10**12):
        expected = canonical({**fields, "sequence": sequence})
        assert head + f"{sequence}}}" == expected


@pytest.mark.django_db
def test_details_when_negative_zero_verify_as_jsonb_gives_them_back():
    audit_record(actor="test", action="test.event", details={"x": -0.0, "y": [-0.0]})
    assert audit_chain_verify().intact


@pytest.mark.django_db
@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e16, -3e20])
def test_details_when_float_would_not_survive_jsonb_are_refused(value):
    """NaN and infinities are no JSONB; 1e16 and above come back as integers,
    which would break the chain on verification."""
    with pytest.raises(AuditDetailsError):
        audit_record(actor="test", action="test.event", details={"x": [value]})
