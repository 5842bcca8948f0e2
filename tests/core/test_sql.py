"""Hot-path SQL helpers: the same rows and instances as the ORM, without it."""

import uuid

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.utils import timezone

from bureau.audit.models import AuditEvent
from bureau.core.sql import insert_new, instance_from_row, select_columns
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
