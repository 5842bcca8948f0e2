"""A crash mid-batch, then a re-run, ends exactly as one clean run: nothing lost,
nothing counted twice, for crashes after several different chunks."""

import io

import pytest

from bureau.records.services import ingest as ingest_module
from bureau.records.services.ingest import batch_ingest
from bureau.records.services.upload import batch_create
from tests.records.helpers import (
    ID_B,
    ID_BAD_CHECKSUM,
    csv_bytes,
    current_row,
    days_ago,
    good_row,
)
from tests.records.snapshots import (
    batch_counters,
    batch_errors_of,
    months_of,
    records_of,
)

pytestmark = pytest.mark.django_db

CHUNK = 4


class Crash(Exception):
    pass


def _rows() -> list[dict]:
    rows = []
    for i in range(22):
        row = good_row(account_no=f"ACC-{i % 15}", as_of=days_ago(40 - i))
        if i % 5 == 0:
            row = current_row(
                account_no=f"ACC-{i % 15}", id_number=ID_B, as_of=days_ago(30 - i)
            )
        if i % 7 == 3:
            row["id_number"] = ID_BAD_CHECKSUM
        rows.append(row)
    return rows


@pytest.fixture
def data():
    return csv_bytes(_rows())


@pytest.fixture
def clean_run(globex, data, settings):
    settings.BUREAU_INGEST_CHUNK_ROWS = CHUNK
    batch, _ = batch_create(member=globex, handle=io.BytesIO(data), filename="f.csv")
    batch = batch_ingest(batch_id=batch.pk)
    assert batch.chunks_done == 6
    return batch


def _arm_crash(
    monkeypatch, *, after_chunk: int | None = None, inside_chunk: int | None = None
):
    original = ingest_module._commit_chunk
    armed = {"on": True}

    def commit(batch, chunk, **kwargs):
        if armed["on"] and chunk.index == inside_chunk:
            # Dies inside the chunk's transaction: the merge ran, nothing commits.
            def explode(*args, **kw):
                raise Crash(f"inside chunk {chunk.index}")

            monkeypatch.setattr(ingest_module, "_copy_errors", explode)
        outcome = original(batch, chunk, **kwargs)
        if armed["on"] and chunk.index == after_chunk:
            raise Crash(f"after chunk {chunk.index}")
        return outcome

    monkeypatch.setattr(ingest_module, "_commit_chunk", commit)
    return armed


@pytest.mark.parametrize(
    ("after_chunk", "inside_chunk"),
    [(0, None), (2, None), (5, None), (None, 0), (None, 3), (None, 5)],
)
def test_crash_then_rerun_when_resumed_equals_clean_run(
    acme, clean_run, data, monkeypatch, after_chunk, inside_chunk
):
    original_copy_errors = ingest_module._copy_errors
    batch, _ = batch_create(member=acme, handle=io.BytesIO(data), filename="f.csv")
    armed = _arm_crash(monkeypatch, after_chunk=after_chunk, inside_chunk=inside_chunk)
    with pytest.raises(Crash):
        batch_ingest(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == "processing" and not batch.is_final

    armed["on"] = False
    monkeypatch.setattr(ingest_module, "_copy_errors", original_copy_errors)
    batch_ingest(batch_id=batch.pk)

    assert records_of(acme) == records_of(clean_run.member)
    assert months_of(acme) == months_of(clean_run.member)
    assert batch_counters(batch) == batch_counters(clean_run)
    assert batch_errors_of(batch) == batch_errors_of(clean_run)


def test_rerun_when_every_chunk_committed_finishes_without_rewriting(
    acme, clean_run, data, monkeypatch
):
    batch, _ = batch_create(member=acme, handle=io.BytesIO(data), filename="f.csv")
    _arm_crash(monkeypatch, after_chunk=5)
    with pytest.raises(Crash):
        batch_ingest(batch_id=batch.pk)
    monkeypatch.undo()
    batch = batch_ingest(batch_id=batch.pk)
    assert batch_counters(batch) == batch_counters(clean_run)
