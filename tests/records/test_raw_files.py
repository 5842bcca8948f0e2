"""Raw files do not outlive their batch: deleted when the batch is final (or
BUREAU_RAW_FILE_KEEP_HOURS later), never before, audited once; idempotency keeps
working from the stored sha256 and Idempotency-Key."""

import io
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage

from bureau.audit.models import AuditEvent
from bureau.celery import app
from bureau.records.models import Batch
from bureau.records.services import ingest as ingest_module
from bureau.records.services.ingest import batch_fail, batch_ingest
from bureau.records.services.raw_files import (
    BATCH_FILES,
    batch_file_delete,
    raw_files_sweep,
)
from bureau.records.services.upload import batch_create
from bureau.records.tasks import ingest_batch, maintenance_delete_raw_files
from tests.conftest import bearer
from tests.records.helpers import csv_bytes, good_row, upload_file

BATCHES = "/api/v1/batches/"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def stored_files(media) -> list[str]:
    return sorted(
        str(path.relative_to(media)) for path in media.rglob("*") if path.is_file()
    )


def created(member, data=None, **kwargs) -> Batch:
    data = data or csv_bytes([good_row()])
    batch, _ = batch_create(
        member=member, handle=io.BytesIO(data), filename="r.csv", **kwargs
    )
    return batch


def deletions() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="batch.file_deleted"))


def wait_final(client, key, batch_id, timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"{BATCHES}{batch_id}/", **bearer(key)).json()
        if body["status"] in Batch.FINAL_STATUSES:
            return body
        time.sleep(0.1)
    raise AssertionError(f"batch {batch_id} not final: {body}")


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


# -- end to end ------------------------------------------------------------------


@pytest.mark.celery_worker
def test_batch_when_ingested_by_the_worker_loses_its_file_and_stays_idempotent(
    celery_worker, api_client, acme_key, media
):
    key_row, key = acme_key
    data = csv_bytes([good_row(), good_row(account_no="ACC-2")])
    headers = {"HTTP_IDEMPOTENCY_KEY": "acme-2026-12-03"}
    response = api_client.post(
        BATCHES,
        {"file": upload_file("r.csv", data)},
        format="multipart",
        **bearer(key),
        **headers,
    )
    assert response.status_code == 202
    batch_id = response.json()["id"]
    body = wait_final(api_client, key, batch_id)
    assert body["status"] == "completed"
    # The task deletes the file, then empties the row and audits, in one commit.
    wait_for(lambda: Batch.objects.filter(pk=batch_id, file="").exists())
    assert stored_files(media) == []
    batch = Batch.objects.get(pk=batch_id)
    assert batch.sha256 == body["sha256"]
    (event,) = deletions()
    assert (event.object_type, event.object_id) == ("records.batch", str(batch_id))
    assert event.member_id == key_row.member_id
    assert event.details == {
        "status": "completed",
        "sha256": batch.sha256,
        "keep_hours": 0.0,
    }

    # The same content, or the same key, is still the same batch.
    for name, extra in (("again.csv", {}), ("other.csv", headers)):
        again = api_client.post(
            BATCHES,
            {"file": upload_file(name, data if not extra else b"other,content\n")},
            format="multipart",
            **bearer(key),
            **extra,
        )
        assert (again.status_code, again.json()["id"]) == (200, batch_id)
    assert stored_files(media) == []
    # A re-run of the final batch needs no file; deleting again audits nothing.
    assert ingest_batch.delay(batch_id).get(timeout=30) == "completed"
    assert len(deletions()) == 1


# -- when the file goes, and when it stays --------------------------------------------


@pytest.mark.django_db
def test_batch_file_delete_when_batch_is_not_final_keeps_the_file(acme, media):
    batch = created(acme)
    assert batch_file_delete(batch_id=batch.pk) is False
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.PROCESSING)
    assert batch_file_delete(batch_id=batch.pk) is False
    assert raw_files_sweep(BATCH_FILES) == 0
    assert len(stored_files(media)) == 1 and not deletions()


@pytest.mark.django_db
def test_batch_when_crashed_mid_file_keeps_its_file_and_resumes_from_it(
    acme, media, settings, monkeypatch
):
    settings.BUREAU_INGEST_CHUNK_ROWS = 1
    batch = created(acme, csv_bytes([good_row(account_no=f"A-{i}") for i in range(3)]))
    real_commit = ingest_module._commit_chunk

    def crash_on_second_chunk(batch, chunk, **kwargs):
        if chunk.index == 1:
            raise RuntimeError("worker lost")
        return real_commit(batch, chunk, **kwargs)

    monkeypatch.setattr(ingest_module, "_commit_chunk", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        batch_ingest(batch_id=batch.pk)
    assert batch_file_delete(batch_id=batch.pk) is False
    assert raw_files_sweep(BATCH_FILES) == 0
    assert len(stored_files(media)) == 1
    monkeypatch.setattr(ingest_module, "_commit_chunk", real_commit)
    assert ingest_batch.apply(args=[batch.pk]).get() == "completed"
    assert Batch.objects.get(pk=batch.pk).records_created == 3
    assert stored_files(media) == [] and len(deletions()) == 1


@pytest.mark.django_db
def test_batch_when_the_task_fails_it_loses_its_file(acme, media):
    """A file found unreadable while ingesting fails the batch: final, so its
    file goes too (through the task's failure path)."""
    batch = created(acme)
    with default_storage.open(batch.file.name, "wb") as handle:
        handle.write(b"\x00\x01 not a csv \xff\xfe")
    assert ingest_batch.apply(args=[batch.pk]).get() == "failed"
    batch.refresh_from_db()
    assert batch.status == "failed" and batch.file.name == ""
    assert stored_files(media) == []
    assert deletions()[0].details["status"] == "failed"


@pytest.mark.django_db
def test_batch_when_the_task_hits_an_internal_error_fails_and_loses_its_file(
    acme, media, monkeypatch
):
    def broken(batch, *, write):
        raise RuntimeError("a bug")

    monkeypatch.setattr(ingest_module, "_run_pass", broken)
    batch = created(acme)
    with pytest.raises(RuntimeError):
        ingest_batch.apply(args=[batch.pk]).get()
    assert Batch.objects.get(pk=batch.pk).status == "failed"
    assert stored_files(media) == [] and len(deletions()) == 1


@pytest.mark.django_db
def test_keep_hours_when_set_keep_the_file_until_the_sweep_after_them(
    acme, media, settings
):
    settings.BUREAU_RAW_FILE_KEEP_HOURS = 2
    batch = created(acme)
    assert ingest_batch.apply(args=[batch.pk]).get() == "completed"
    assert len(stored_files(media)) == 1  # kept for support
    finished = Batch.objects.get(pk=batch.pk).finished_at
    assert raw_files_sweep(BATCH_FILES, now=finished + timedelta(hours=1)) == 0
    assert len(stored_files(media)) == 1
    later = finished + timedelta(hours=2, seconds=1)
    assert raw_files_sweep(BATCH_FILES, now=later) == 1
    assert raw_files_sweep(BATCH_FILES, now=later) == 0
    assert stored_files(media) == []
    assert [e.details["keep_hours"] for e in deletions()] == [2.0]


@pytest.mark.django_db
def test_sweep_when_a_final_batch_still_has_its_file_deletes_it(acme, media):
    """The safety net: a batch that ended where nothing deleted its file (the CLI
    without a worker, a worker lost after the final commit) is swept."""
    batch = created(acme)
    batch_fail(batch_id=batch.pk, reason="test")
    assert len(stored_files(media)) == 1
    assert maintenance_delete_raw_files.apply().get() == 1
    assert stored_files(media) == [] and len(deletions()) == 1


@pytest.mark.django_db
def test_file_when_already_gone_from_storage_is_still_recorded_once(acme, media):
    """A crash between removing the file and emptying the row: the next call
    finds no file, empties the row and audits once."""
    batch = created(acme)
    batch_fail(batch_id=batch.pk, reason="test")
    default_storage.delete(batch.file.name)
    assert batch_file_delete(batch_id=batch.pk) is True
    assert batch_file_delete(batch_id=batch.pk) is False
    assert Batch.objects.get(pk=batch.pk).file.name == "" and len(deletions()) == 1


def test_beat_when_configured_runs_both_raw_file_sweeps_on_the_maintenance_queue():
    app.loader.import_default_modules()
    schedule = {
        entry["task"]: entry for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
    }
    for task in (
        "bureau.records.tasks.maintenance_delete_raw_files",
        "reports.tasks.maintenance_delete_screening_files",
    ):
        assert task in schedule and task in app.tasks
        assert app.amqp.router.route({}, task)["queue"].name == "maintenance"
