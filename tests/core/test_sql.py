"""Hot-path SQL helpers: the same rows and instances as the ORM, without it."""

import uuid

import psycopg
import pytest
from django.db import NotSupportedError, connection, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from bureau.audit.models import AuditEvent
from bureau.core.sql import (
    fetchone_prepared,
    insert_new,
    instance_from_row,
    select_columns,
)
from bureau.records.models import Subject
from reports.models import Inquiry
from tests.factories import an_inquiry
from tests.records.helpers import csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db


def stored(inquiry: Inquiry) -> dict:
    row = Inquiry.objects.filter(pk=inquiry.pk).values().get()
    row.pop("id")
    row.pop("created_at")
    return row


def test_insert_new_when_given_new_inquiry_stores_what_create_would(acme):
    created = Inquiry.objects.create(**an_inquiry(acme))
    inserted = insert_new(Inquiry(**an_inquiry(acme)))
    assert stored(inserted) == stored(created)
    assert not inserted._state.adding and inserted._state.db == "default"
    assert Inquiry.objects.get(pk=inserted.pk).created_at == inserted.created_at


def test_insert_new_when_model_has_auto_id_sets_it_from_the_database():
    event = AuditEvent(
        sequence=10**9,
        created_at=timezone.now(),
        actor_type="system",
        action="test.event",
        prev_hash="0" * 64,
        hash=uuid.uuid4().hex * 2,
    )
    insert_new(event)
    assert event.pk is not None
    assert AuditEvent.objects.get(pk=event.pk).sequence == 10**9


def test_insert_new_when_save_signal_is_connected_goes_through_save(acme):
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((instance.pk, created))

    post_save.connect(receiver, sender=Inquiry, weak=False)
    try:
        inquiry = insert_new(Inquiry(**an_inquiry(acme)))
    finally:
        post_save.disconnect(receiver, sender=Inquiry)
    assert seen == [(inquiry.pk, True)]


def test_instance_from_row_when_selected_equals_orm_instance(acme):
    ingest(acme, csv_bytes([good_row()]))
    subject = Subject.objects.get()
    columns, attnames = select_columns(Subject)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM records_subject")
        loaded = instance_from_row(Subject, attnames, cursor.fetchone())
    assert loaded == subject
    assert {n: getattr(loaded, n) for n in attnames} == {
        n: getattr(subject, n) for n in attnames
    }


def test_select_columns_when_a_field_needs_conversion_refuses():
    with pytest.raises(TypeError, match="report"):
        select_columns(Inquiry)


# --- fetchone_prepared: prepared per connection, and a migration in between ------


@pytest.fixture
def probe_table(transactional_db):
    """A table another session will migrate under this one's prepared statement."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE prepared_probe (v integer)")
        cursor.execute("INSERT INTO prepared_probe VALUES (7)")
    yield "SELECT v FROM prepared_probe"
    connection.close()  # may hold a statement of a table about to go
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS prepared_probe")


def _prepared_statement_names() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _migrate_elsewhere(sql: str) -> None:
    """Run DDL on another connection, as a deploy's `migrate` would."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute(sql)


def test_fetchone_prepared_when_run_often_is_prepared_on_the_connection(probe_table):
    threshold = connection.connection.prepare_threshold
    for _ in range(threshold + 1):
        assert fetchone_prepared(probe_table, []) == (7,)
    assert probe_table in _prepared_statement_names()


def test_fetchone_prepared_when_columns_changed_elsewhere_reconnects_and_answers(
    probe_table,
):
    for _ in range(connection.connection.prepare_threshold + 1):
        fetchone_prepared(probe_table, [])
    before = connection.connection.info.backend_pid
    _migrate_elsewhere("ALTER TABLE prepared_probe ALTER COLUMN v TYPE text")
    assert fetchone_prepared(probe_table, []) == ("7",)
    assert connection.connection.info.backend_pid != before


def test_fetchone_prepared_when_columns_changed_inside_a_transaction_raises(
    probe_table,
):
    for _ in range(connection.connection.prepare_threshold + 1):
        fetchone_prepared(probe_table, [])
    _migrate_elsewhere("ALTER TABLE prepared_probe ALTER COLUMN v TYPE text")
    with pytest.raises(NotSupportedError), transaction.atomic():
        fetchone_prepared(probe_table, [])
    # The rollback cleared psycopg's statements: the next run prepares afresh.
    assert fetchone_prepared(probe_table, []) == ("7",)


def test_fetchone_prepared_when_columns_changed_with_autocommit_off_raises(
    probe_table,
):
    """A transaction opened by hand is the caller's: not closed under it."""
    for _ in range(connection.connection.prepare_threshold + 1):
        fetchone_prepared(probe_table, [])
    _migrate_elsewhere("ALTER TABLE prepared_probe ALTER COLUMN v TYPE text")
    transaction.set_autocommit(False)
    try:
        with pytest.raises(NotSupportedError):
            fetchone_prepared(probe_table, [])
        transaction.rollback()
    finally:
        transaction.set_autocommit(True)
    assert fetchone_prepared(probe_table, []) == ("7",)
