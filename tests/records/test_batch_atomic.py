"""A failed batch applies nothing: a file that is truncated, corrupt, undecodable
or too large is read through before the first write, so it ends `failed` with a
clear reason and leaves the database exactly as it was, even when the problem is
many chunks into the file. A batch that stops after some of it was applied is
never called failed: it is resumed."""

import gzip
import hashlib
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from bureau.records.models import Batch, BatchError, BatchSubject, Profile, Subject
from bureau.records.services import ingest as ingest_module
from bureau.records.services.aggregate import profiles_refresh
from bureau.records.services.ingest import batch_fail, batch_ingest
from bureau.records.services.upload import batch_create
from bureau.records.tasks import ingest_batch
from tests.records.helpers import ID_B, csv_bytes, days_ago, good_row
from tests.records.snapshots import batch_counters, months_of, records_of

pytestmark = pytest.mark.django_db

CHUNK = 100
ROWS = 600  # six chunks: every problem below sits after the first one


def _rows(n=ROWS, *, balance="8000.00") -> list[dict]:
    # Account numbers that do not compress away: a gzip of these rows is larger
    # than the block the upload reads, so its damage shows only later.
    return [
        good_row(
            account_no=f"ACC-{i}-{hashlib.md5(bytes(i)).hexdigest()}", balance=balance
        )
        for i in range(n)
    ]


@pytest.fixture
def small_chunks(settings):
    settings.BUREAU_INGEST_CHUNK_ROWS = CHUNK
    return settings


@pytest.fixture
def on_file(acme, small_chunks):
    """Acme already furnished these accounts (and another person), profiled."""
    rows = _rows(ROWS // 2, balance="100.00")
    rows.append(good_row(account_no="OTHER", id_number=ID_B))
    batch, _ = batch_create(
        member=acme, handle=io.BytesIO(csv_bytes(rows)), filename="first.csv"
    )
    batch_ingest(batch_id=batch.pk)
    profiles_refresh(subject_ids=list(Subject.objects.values_list("pk", flat=True)))
    return acme


def _database(member) -> tuple:
    profiles = sorted(
        Profile.objects.values_list(
            "subject_id", "accounts_total", "total_balance", "blacklisted"
        )
    )
    names = sorted(Subject.objects.values_list("id_hash", "name", "name_as_of"))
    return records_of(member), months_of(member), profiles, names


def _ingested(member, data: bytes, filename: str) -> Batch:
    batch, created = batch_create(
        member=member, handle=io.BytesIO(data), filename=filename
    )
    assert created and batch.status == "received"  # the start of it reads fine
    return batch_ingest(batch_id=batch.pk)


def _truncated_gzip() -> bytes:
    data = gzip.compress(csv_bytes(_rows()), mtime=0)
    return data[: len(data) * 2 // 3]


def _corrupt_gzip() -> bytes:
    data = bytearray(gzip.compress(csv_bytes(_rows()), mtime=0))
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(range(64))
    return bytes(data)


def _undecodable_after_first_chunk() -> bytes:
    lines = csv_bytes(_rows()).split(b"\n")
    lines[CHUNK + 50] = lines[CHUNK + 50].replace("张三".encode(), b"\xff\xfe\xfa")
    return b"\n".join(lines)


def _mixed_encodings() -> bytes:
    # UTF-8 for the first block the encoding is told from, then GBK.
    head = csv_bytes(_rows(CHUNK * 4))
    tail = csv_bytes(_rows(CHUNK * 2), encoding="gbk").split(b"\n", 1)[1]
    return head + tail


def _nul_after_first_chunk() -> bytes:
    lines = csv_bytes(_rows()).split(b"\n")
    lines[CHUNK * 5] = lines[CHUNK * 5].replace(b"consumer", b"cons\x00umer")
    return b"\n".join(lines)


@pytest.mark.parametrize(
    ("make", "filename", "reason"),
    [
        (_truncated_gzip, "r.csv.gz", "invalid_format: The compressed file is"),
        # Damaged deflate data is refused by zlib, or inflates to bytes that do
        # not decode (before the CRC at the end would refuse them): which one
        # depends on the bytes, so either code, never a success.
        (_corrupt_gzip, "r.csv.gz", ("invalid_format: The compressed", "encoding:")),
        (_undecodable_after_first_chunk, "r.csv", "encoding: Line 151 is not valid"),
        (_mixed_encodings, "r.csv", "encoding: Line 402 is not valid utf-8"),
        (_nul_after_first_chunk, "r.csv", "encoding: Line 501 contains NUL"),
    ],
    ids=["truncated-gzip", "corrupt-gzip", "undecodable", "mixed", "nul"],
)
def test_damaged_file_when_ingested_fails_and_leaves_the_database_as_it_was(
    on_file, make, filename, reason
):
    before = _database(on_file)
    batch = _ingested(on_file, make(), filename)
    assert batch.status == "failed"
    assert batch.failure_reason.startswith(reason), batch.failure_reason
    assert _database(on_file) == before
    assert (batch.rows_total, batch.records_created, batch.records_updated) == (0, 0, 0)
    assert not BatchSubject.objects.filter(batch=batch).exists()
    assert not BatchError.objects.filter(batch=batch).exists()


def test_failed_batch_when_finished_queues_no_aggregation_only_its_own_notice(
    on_file, monkeypatch, django_capture_on_commit_callbacks
):
    """No profile is recomputed, so no watch alert or profile.changed follows; the
    member's own batch.completed notice (status failed) still goes out."""
    called = []
    monkeypatch.setattr(
        ingest_module, "_enqueue_aggregation", lambda pk: called.append(("agg", pk))
    )
    monkeypatch.setattr(
        ingest_module, "_announce_final", lambda pk: called.append(("final", pk))
    )
    with django_capture_on_commit_callbacks(execute=True):
        batch = _ingested(on_file, _truncated_gzip(), "r.csv.gz")
    assert batch.status == "failed"
    assert ("final", batch.pk) in called
    assert ("agg", batch.pk) not in called


@pytest.mark.parametrize(
    ("setting", "value", "reason"),
    [
        ("BUREAU_MAX_BATCH_ROWS", 250, "too_large: The file has more than 250 rows"),
        ("BUREAU_MAX_BATCH_TEXT_BYTES", 40_000, "too_large: The file expands to"),
    ],
)
def test_file_when_past_a_limit_fails_too_large_with_nothing_applied(
    on_file, settings, setting, value, reason
):
    setattr(settings, setting, value)
    before = _database(on_file)
    batch = _ingested(on_file, gzip.compress(csv_bytes(_rows()), mtime=0), "r.gz")
    assert batch.status == "failed"
    assert batch.failure_reason.startswith(reason), batch.failure_reason
    assert _database(on_file) == before


def test_gzip_of_repeats_when_ingested_fails_too_large_within_the_first_mib(on_file):
    """A small gzip of one row repeated (the zip bomb of the issue: 1.3 MB that
    expands to 2,000,000 rows) is stopped under the default limits, reading
    only the start of it."""
    header, row = csv_bytes([good_row()]).split(b"\n", 1)
    bomb = gzip.compress(header + b"\n" + row * 2_000_000, mtime=0)
    before = _database(on_file)
    batch = _ingested(on_file, bomb, "r.csv.gz")
    assert batch.status == "failed"
    assert batch.failure_reason.startswith(
        "too_large: The compressed file expands more than 200 times"
    ), batch.failure_reason
    assert _database(on_file) == before


def test_file_within_the_limits_when_ingested_completes(on_file, settings):
    settings.BUREAU_MAX_BATCH_ROWS = ROWS
    batch = _ingested(on_file, csv_bytes(_rows()), "r.csv")
    assert batch.status == "completed" and batch.records_updated == ROWS // 2


def test_stored_file_when_changed_after_upload_fails_file_changed(on_file):
    batch, _ = batch_create(
        member=on_file, handle=io.BytesIO(csv_bytes(_rows())), filename="r.csv"
    )
    with batch.file.open("ab") as handle:
        handle.write(csv_bytes([good_row(account_no="EXTRA")]).split(b"\n", 1)[1])
    batch = batch_ingest(batch_id=batch.pk)
    assert batch.status == "failed"
    assert batch.failure_reason.startswith("file_changed:")


def _stop_after_chunk(monkeypatch, index: int) -> None:
    original = ingest_module._commit_chunk

    def commit(batch, chunk, **kwargs):
        outcome = original(batch, chunk, **kwargs)
        if chunk.index == index:
            raise RuntimeError("a bug after a committed chunk")
        return outcome

    monkeypatch.setattr(ingest_module, "_commit_chunk", commit)


def test_internal_error_when_rows_were_applied_leaves_batch_processing(
    on_file, monkeypatch
):
    batch, _ = batch_create(
        member=on_file, handle=io.BytesIO(csv_bytes(_rows())), filename="r.csv"
    )
    _stop_after_chunk(monkeypatch, 1)
    result = ingest_batch.apply(args=[batch.pk])
    assert isinstance(result.result, RuntimeError)
    batch.refresh_from_db()
    assert batch.status == "processing" and batch.chunks_done == 2
    assert not batch.failure_reason
    assert batch_fail(batch_id=batch.pk, reason="x") is False

    monkeypatch.undo()
    batch = batch_ingest(batch_id=batch.pk)
    assert batch.status == "completed" and batch.records_updated == ROWS // 2


def test_internal_error_when_nothing_was_applied_fails_the_batch(on_file, monkeypatch):
    batch, _ = batch_create(
        member=on_file, handle=io.BytesIO(csv_bytes(_rows())), filename="r.csv"
    )

    def broken(*args, **kwargs):
        raise RuntimeError("a bug before the first chunk")

    monkeypatch.setattr(ingest_module, "_commit_chunk", broken)
    ingest_batch.apply(args=[batch.pk])
    batch.refresh_from_db()
    assert batch.status == "failed"
    assert batch.failure_reason == "internal error while ingesting (logged)"


def test_resumed_batch_when_rerun_after_midnight_checks_rows_as_on_its_first_day(
    on_file, monkeypatch, time_machine
):
    """Rows are checked against the day the batch started ("not in the future",
    "not older than five years"), so a run resumed long after checks the rest of
    the file as the first run checked its beginning."""
    rows = _rows(CHUNK * 2)
    rows[-1] = good_row(account_no="TODAY", as_of=days_ago(0))
    clean = csv_bytes(rows)
    batch, _ = batch_create(member=on_file, handle=io.BytesIO(clean), filename="r.csv")
    _stop_after_chunk(monkeypatch, 0)
    with pytest.raises(RuntimeError):
        batch_ingest(batch_id=batch.pk)
    monkeypatch.undo()
    batch.refresh_from_db()
    assert batch.chunks_done == 1
    time_machine.move_to(timezone.now() + timedelta(days=400))  # "too old" moves
    batch = batch_ingest(batch_id=batch.pk)
    assert batch_counters(batch)["rows_rejected"] == 0
    assert batch.status == "completed"


def test_verified_file_when_resumed_is_not_read_through_again(on_file, monkeypatch):
    batch, _ = batch_create(
        member=on_file, handle=io.BytesIO(csv_bytes(_rows())), filename="r.csv"
    )
    _stop_after_chunk(monkeypatch, 0)
    with pytest.raises(RuntimeError):
        batch_ingest(batch_id=batch.pk)
    monkeypatch.undo()
    batch.refresh_from_db()
    assert batch.verified_at is not None

    def unexpected(*args, **kwargs):
        raise AssertionError("verified again")

    monkeypatch.setattr(ingest_module, "verify_file", unexpected)
    assert batch_ingest(batch_id=batch.pk).status == "completed"
