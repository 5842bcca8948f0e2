"""What records announces (bureau/records/events.py), and when: refreshed
profiles inside the refresh's transaction, a finished batch once it commits."""

import pytest

from bureau.records import events
from bureau.records.models import Batch, Profile, Subject
from bureau.records.services import ingest as ingest_module
from bureau.records.services.aggregate import profiles_refresh_and_alert
from tests.records.helpers import ID_B, csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def listen():
    """listen(event) -> the payloads it is sent, with what the receiver saw."""
    connected = []

    def start(event, look=lambda **payload: None):
        heard = []

        def receiver(sender, signal, **payload):
            heard.append((sender, payload, look(**payload)))

        event.connect(receiver, weak=False)
        connected.append((event, receiver))
        return heard

    yield start
    for event, receiver in connected:
        event.disconnect(receiver)


@pytest.fixture
def two_subjects(acme):
    ingest(
        acme,
        csv_bytes(
            [
                good_row(account_no="A-1"),
                good_row(account_no="A-2", id_number=ID_B, name="李四"),
            ]
        ),
    )
    return sorted(Subject.objects.values_list("pk", flat=True))


def _profiled(subject_ids) -> list[int]:
    return sorted(
        Profile.objects.filter(subject_id__in=subject_ids).values_list(
            "subject_id", flat=True
        )
    )


def test_profiles_when_refreshed_are_announced_chunk_by_chunk_once_recomputed(
    settings, listen, two_subjects
):
    settings.BUREAU_AGGREGATE_CHUNK = 1
    Profile.objects.all().delete()
    heard = listen(
        events.profiles_refreshed, look=lambda subject_ids: _profiled(subject_ids)
    )
    assert profiles_refresh_and_alert(two_subjects) == 2
    assert heard == [
        (Profile, {"subject_ids": [two_subjects[0]]}, [two_subjects[0]]),
        (Profile, {"subject_ids": [two_subjects[1]]}, [two_subjects[1]]),
    ]


def test_profiles_refreshed_when_a_receiver_fails_rolls_the_refresh_back(
    listen, two_subjects
):
    Profile.objects.all().delete()

    def refuse(sender, **payload):
        raise RuntimeError("watches could not be compared")

    events.profiles_refreshed.connect(refuse, weak=False)
    try:
        with pytest.raises(RuntimeError, match="could not be compared"):
            profiles_refresh_and_alert(two_subjects)
    finally:
        events.profiles_refreshed.disconnect(refuse)
    assert _profiled(two_subjects) == []


def test_batch_when_finished_is_announced_once_committed_in_its_final_status(
    acme, listen, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(ingest_module, "_enqueue_aggregation", lambda pk: None)
    heard = listen(
        events.batch_finished,
        look=lambda batch_id: Batch.objects.get(pk=batch_id).status,
    )
    with django_capture_on_commit_callbacks(execute=True):
        batch = ingest(acme, csv_bytes([good_row()]))
        assert heard == []  # not before the final status commits
    assert heard == [(Batch, {"batch_id": batch.pk}, "completed")]
