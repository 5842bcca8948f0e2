"""A screening's file (every person's number in clear) is deleted when the
screening ends, or BUREAU_RAW_FILE_KEEP_HOURS later; never while it can resume."""

import io
import time
from datetime import timedelta

import pytest

from bureau.audit.models import AuditEvent
from bureau.records.services.raw_files import raw_files_sweep
from reports.models import Screening
from reports.services import screening as screening_service
from reports.services.screening import screening_create, screening_run
from reports.services.screening_files import SCREENING_FILES, screening_files_sweep
from reports.tasks import maintenance_delete_screening_files
from tests.conftest import bearer
from tests.records.helpers import ID_A, ID_B, csv_bytes, good_row, ingest, upload_file

COLUMNS = ("id_type", "id_number", "name")


def persons(*numbers) -> bytes:
    return csv_bytes(
        [{"id_type": "resident_id", "id_number": n, "name": "张三"} for n in numbers],
        columns=COLUMNS,
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def screening_files(media) -> list[str]:
    root = media / "screenings"
    return (
        sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []
    )


def create(member, key, data) -> Screening:
    return screening_create(
        actor=key,
        member=member,
        handle=io.BytesIO(data),
        filename="persons.csv",
        purpose="loan_approval",
        consent_reference="S-2026-001",
    )


def deletions() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="screening.file_deleted"))


@pytest.mark.celery_worker
def test_screening_when_completed_by_the_worker_loses_its_file(
    celery_worker, api_client, acme, acme_key, media
):
    ingest(acme, csv_bytes([good_row()]))
    response = api_client.post(
        "/api/v1/screenings/",
        {
            "file": upload_file("persons.csv", persons(ID_A, ID_B)),
            "purpose": "loan_approval",
            "consent_reference": "S-2026-001",
        },
        format="multipart",
        **bearer(acme_key[1]),
    )
    assert response.status_code == 202, response.json()
    screening_id = response.json()["id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not deletions():
        time.sleep(0.05)
    screening = Screening.objects.get(pk=screening_id)
    assert screening.status == "completed" and screening.persons_found == 1
    assert screening.file.name == "" and screening_files(media) == []
    (event,) = deletions()
    assert event.details == {"status": "completed", "keep_hours": 0.0}
    assert (event.object_type, event.object_id) == (
        "reports.screening",
        str(screening_id),
    )


@pytest.mark.django_db
def test_screening_when_crashed_keeps_its_file_until_it_ends(
    acme, acme_key, media, monkeypatch, django_capture_on_commit_callbacks
):
    ingest(acme, csv_bytes([good_row()]))
    monkeypatch.setattr(screening_service, "CHUNK_PERSONS", 1)
    screening = create(acme, acme_key[0], persons(ID_A, ID_B))
    real_commit, calls = screening_service._commit_chunk, []

    def crash_on_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker lost")
        return real_commit(*args, **kwargs)

    monkeypatch.setattr(screening_service, "_commit_chunk", crash_on_second_chunk)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        screening_run(screening_id=screening.pk)
    assert screening_files_sweep() == 0
    assert len(screening_files(media)) == 1 and not deletions()
    monkeypatch.setattr(screening_service, "_commit_chunk", real_commit)
    with django_capture_on_commit_callbacks(execute=True):
        assert screening_run(screening_id=screening.pk).status == "completed"
    assert screening_files(media) == [] and len(deletions()) == 1


@pytest.mark.django_db
def test_screening_file_when_kept_for_hours_is_swept_after_them(
    acme, acme_key, media, settings, django_capture_on_commit_callbacks
):
    settings.BUREAU_RAW_FILE_KEEP_HOURS = 1.5
    ingest(acme, csv_bytes([good_row()]))
    screening = create(acme, acme_key[0], persons(ID_A))
    with django_capture_on_commit_callbacks(execute=True):
        screening = screening_run(screening_id=screening.pk)
    assert len(screening_files(media)) == 1
    # A duplicate delivery within the keep time deletes nothing either.
    assert screening_run(screening_id=screening.pk).file.name
    soon = screening.finished_at + timedelta(hours=1)
    assert raw_files_sweep(SCREENING_FILES, now=soon) == 0
    later = screening.finished_at + timedelta(hours=1, minutes=31)
    assert raw_files_sweep(SCREENING_FILES, now=later) == 1
    assert screening_files(media) == [] and len(deletions()) == 1


@pytest.mark.django_db
def test_maintenance_task_when_a_final_screening_kept_its_file_deletes_it(
    acme, acme_key, media
):
    """No on-commit hook ran (e.g. a worker lost after the final commit)."""
    ingest(acme, csv_bytes([good_row()]))
    screening = create(acme, acme_key[0], persons(ID_A))
    screening_run(screening_id=screening.pk)  # on_commit never runs in this test
    assert len(screening_files(media)) == 1
    assert maintenance_delete_screening_files.apply().get() == 1
    assert screening_files(media) == [] and len(deletions()) == 1
