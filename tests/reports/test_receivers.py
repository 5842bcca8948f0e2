"""Reports subscribes to what records announces (reports/receivers.py): watches
compared when profiles are refreshed, batch.completed queued when a batch
finishes, past inquiries moved when subjects are re-hashed."""

import pytest

from bureau.records import events
from bureau.records.models import Batch, Profile, Subject
from bureau.records.services.aggregate import profiles_refresh_and_alert
from reports import receivers
from reports.models import Inquiry
from tests.factories import an_inquiry
from tests.records.helpers import csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db
OLD, NEW, OTHER = "o" * 64, "n" * 64, "x" * 64


def test_profiles_refreshed_when_sent_compares_the_watches(monkeypatch):
    compared = []
    monkeypatch.setattr(
        receivers, "watches_check", lambda *, subject_ids: compared.append(subject_ids)
    )
    events.profiles_refreshed.send(Profile, subject_ids=[3, 5])
    assert compared == [[3, 5]]


def test_watches_when_they_fail_roll_the_profile_refresh_back(acme, monkeypatch):
    ingest(acme, csv_bytes([good_row()]))
    subject_ids = list(Subject.objects.values_list("pk", flat=True))
    Profile.objects.all().delete()

    def fail(*, subject_ids):
        raise RuntimeError("watch comparison failed")

    monkeypatch.setattr(receivers, "watches_check", fail)
    with pytest.raises(RuntimeError, match="watch comparison failed"):
        profiles_refresh_and_alert(subject_ids)
    assert not Profile.objects.filter(subject_id__in=subject_ids).exists()


def test_batch_finished_when_sent_queues_batch_completed(monkeypatch):
    queued = []
    monkeypatch.setattr(receivers.notify_batch_completed, "delay", queued.append)
    events.batch_finished.send(Batch, batch_id=42)
    assert queued == [42]


def test_subjects_rehashed_when_sent_moves_past_inquiries_of_those_numbers(acme):
    moved = Inquiry.objects.create(**an_inquiry(acme, id_hash=OLD))
    other_type = Inquiry.objects.create(
        **an_inquiry(acme, id_hash=OLD, id_type="passport")
    )
    other_number = Inquiry.objects.create(**an_inquiry(acme, id_hash=OTHER))
    events.subjects_rehashed.send(Subject, moves=[("resident_id", OLD, NEW)])
    assert [
        Inquiry.objects.get(pk=inquiry.pk).id_hash
        for inquiry in (moved, other_type, other_number)
    ] == [NEW, OLD, OTHER]


def test_receivers_when_connected_again_are_not_doubled(monkeypatch):
    receivers.connect()  # ReportsConfig.ready() ran it once already
    queued = []
    monkeypatch.setattr(receivers.notify_batch_completed, "delay", queued.append)
    events.batch_finished.send(Batch, batch_id=7)
    assert queued == [7]
