"""A worker killed with its whole process group mid-batch (a lost machine, an OOM
kill) leaves its batch `processing` and its message unacknowledged until the
broker's visibility timeout (hours). A new worker hands the batch on by itself:
its first task sweeps for batches whose member lock no session holds. The batch
ends exactly like one clean run: the same records, months, counts and profiles.

Real processes throughout: two `celery worker` subprocesses on the test database
and the real Redis broker; the first is killed with SIGKILL to its group."""

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from bureau.records.models import Batch, Profile, Record
from bureau.records.services.aggregate import profiles_refresh
from bureau.records.services.ingest import batch_ingest
from bureau.records.services.upload import batch_create
from tests.records.helpers import ID_B, csv_bytes, current_row, good_row
from tests.records.snapshots import batch_counters, months_of, records_of

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow, pytest.mark.real_clock]

ROWS = 24_000
CHUNK = 400
QUEUES = "default,ingest,aggregate,notify,maintenance"
ROOT = Path(__file__).resolve().parents[2]


def _rows() -> list[dict]:
    rows = []
    for i in range(ROWS):
        make = current_row if i % 3 else good_row
        rows.append(
            make(
                account_no=f"ACC-{i % (ROWS // 2)}",  # half the keys come twice
                id_number=ID_B if i % 2 else "11010519491231002X",
            )
        )
    return rows


def _worker_env(media_root) -> dict:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return {
        **os.environ,
        "DATABASE_URL": f"{url}/{db['NAME']}",
        "MEDIA_ROOT": str(media_root),
        "BUREAU_INGEST_CHUNK_ROWS": str(CHUNK),
        "PYTHONUNBUFFERED": "1",
    }


def _start_worker(log: Path, media_root) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "celery", "-A", "bureau", "worker", "-Q", QUEUES,
        "-c", "1", "-P", "prefork", "--without-gossip", "--without-mingle",
        "--without-heartbeat", "-l", "INFO",
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=_worker_env(media_root),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, killed as a whole
    )


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} within {timeout}s")


def _purge_queues() -> None:
    from bureau.celery import app

    with app.connection_for_write() as conn:
        for queue in QUEUES.split(","):
            conn.default_channel.queue_purge(queue)


def test_batch_when_worker_group_is_killed_finishes_on_a_new_worker(
    transactional_db, acme, globex, tmp_path, settings
):
    _purge_queues()
    data = csv_bytes(_rows())
    log = tmp_path / "workers.log"
    batch, _ = batch_create(member=acme, handle=io.BytesIO(data), filename="big.csv")
    first = _start_worker(log, settings.MEDIA_ROOT)
    try:
        _wait(
            lambda: Batch.objects.get(pk=batch.pk).chunks_done >= 3,
            timeout=90,
            what="the first worker did not get three chunks in",
        )
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    killed = Batch.objects.get(pk=batch.pk)
    assert killed.status == "processing" and 3 <= killed.chunks_done < ROWS // CHUNK

    second = _start_worker(log, settings.MEDIA_ROOT)
    try:
        done = _wait(
            lambda: Batch.objects.get(pk=batch.pk).is_final,
            timeout=120,
            what="the batch was not finished by the new worker",
        )
        assert done
        subjects = list(
            Record.objects.filter(member=acme).values_list("subject_id", flat=True)
        )
        _wait(
            lambda: (
                Profile.objects.filter(subject_id__in=subjects).count()
                == len(set(subjects))
            ),
            timeout=60,
            what="the new worker did not aggregate the batch",
        )
        time.sleep(1)  # the last aggregate chunk commits
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=60)

    profiles = sorted(
        Profile.objects.values_list(
            "subject_id", "accounts_total", "total_balance", "max_days_overdue"
        )
    )
    profiles_refresh(subject_ids=list(set(subjects)))  # what a rebuild gives
    assert profiles == sorted(
        Profile.objects.values_list(
            "subject_id", "accounts_total", "total_balance", "max_days_overdue"
        )
    )

    # One clean run of the same file, for another member, in this process.
    clean, _ = batch_create(member=globex, handle=io.BytesIO(data), filename="b.csv")
    settings.BUREAU_INGEST_CHUNK_ROWS = CHUNK
    clean = batch_ingest(batch_id=clean.pk)
    resumed = Batch.objects.get(pk=batch.pk)
    assert resumed.status == "completed"
    assert batch_counters(resumed) == batch_counters(clean)
    assert records_of(acme) == records_of(globex)
    assert months_of(acme) == months_of(globex)
    assert "stalled batches handed on" in log.read_text()
