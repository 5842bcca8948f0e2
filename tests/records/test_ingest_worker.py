"""End to end through the real broker and a real worker: upload, poll, done."""

import time

import pytest
from django.core.management import call_command

from bureau.records.models import Batch, Record
from tests.conftest import bearer
from tests.records.helpers import ID_BAD_CHECKSUM, csv_bytes, good_row, upload_file


def _wait_final(client, key, batch_id, timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/batches/{batch_id}/", **bearer(key)).json()
        if body["status"] in ("completed", "completed_with_errors", "failed"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"batch {batch_id} not final after {timeout}s: {body}")


@pytest.mark.celery_worker
def test_upload_when_worker_running_is_ingested_in_background(
    celery_worker, api_client, acme_key
):
    _, key = acme_key
    rows = [
        good_row(),
        good_row(account_no="ACC-2"),
        good_row(account_no="X", id_number=ID_BAD_CHECKSUM),
    ]
    response = api_client.post(
        "/api/v1/batches/",
        {"file": upload_file("r.csv", csv_bytes(rows))},
        format="multipart",
        **bearer(key),
    )
    assert response.status_code == 202
    body = _wait_final(api_client, key, response.json()["id"])
    assert body["status"] == "completed_with_errors"
    assert (body["rows_total"], body["rows_accepted"], body["rows_rejected"]) == (
        3,
        2,
        1,
    )
    assert body["records_created"] == 2 and body["progress"] == 1.0
    assert Record.objects.count() == 2


@pytest.mark.django_db
def test_upload_batch_command_when_run_now_ingests_and_prints_id(
    acme, tmp_path, capsys
):
    path = tmp_path / "records.csv"
    path.write_bytes(csv_bytes([good_row()]))
    call_command("upload_batch", str(path), "--member", "acme", "--now")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    batch = Batch.objects.get(pk=int(last))
    assert batch.status == "completed" and batch.records_created == 1
