"""Ingesting a batch: read the file through, then stream it, validate each row,
merge chunk by chunk.

All or nothing for the file: before the first write the whole stream is read
through (`verify_file`: it decompresses to the end, decodes, stays within the
limits), so a file that is truncated, corrupt, undecodable or too large ends
`failed` with nothing applied. After that only the database can stop a batch,
and a stopped batch is resumed, never failed.

Crash-safe and idempotent: each chunk (its records, its row errors, the batch's
counters and `chunks_done`) commits in one transaction; a re-run skips the chunks
already committed, so a crash at any point ends in exactly the state of one
clean run. A member's batches are applied one at a time (advisory lock) and in
upload order: a run first finishes the member's earlier batches, so the merge's
furnishing order (merge.py) is also the order of application.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import operator
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from bureau.core.prefetch import prefetch
from bureau.records import columns, identity, identity_keys
from bureau.records.events import batch_finished
from bureau.records.fileformat import (
    CleanRow,
    FileRejected,
    RowError,
    RowValidator,
    open_rows,
    verify_file,
)
from bureau.records.history import month_status
from bureau.records.models import Batch, BatchError, BatchSubject
from bureau.records.selectors import batches_ahead, contribution_cache_key
from bureau.records.services import merge
from members.models import Member

logger = logging.getLogger("bureau.ingest")

# Advisory lock namespace, keyed by member: one ingest per member at a time, and
# retention does not purge a member's records while its batch merges.
MEMBER_LOCK_SPACE = 0x1B0


class BatchBusy(Exception):
    """Another worker is ingesting a batch of the same member; retry later."""


class ChunkAlreadyDone(Exception):
    """Another run committed this chunk first (a duplicate delivery)."""


class BatchStopped(Exception):
    """A batch stopped after some of it was applied: it must be resumed (a new run
    goes on from its last chunk), never failed, since `failed` applies nothing."""


@dataclass
class Chunk:
    index: int
    rows: list[str] = field(default_factory=list)  # COPY lines (merge.copy_line)
    errors: list[RowError] = field(default_factory=list)
    rejected_rows: int = 0
    source_rows: int = 0
    bytes_read: int = 0
    # During an identity-key rotation: (id_type, older hash, current hash) of the
    # chunk's numbers, so their subjects are moved to the current key first.
    lifts: list[tuple[str, str, str]] = field(default_factory=list)


_REPORTED = operator.attrgetter(*columns.REPORTED_FIELDS)


def row_hash(clean: CleanRow) -> str:
    """Digest of everything a row reports: a report equal to the one on file (same
    as_of, same digest) is `unchanged`."""
    if clean.action == "delete":
        text = f"delete|{clean.as_of}"
    else:
        text = "|".join(
            str(value)
            for value in (
                clean.name,
                *_REPORTED(clean),
                clean.phone,
                clean.payment_history,
            )
        )
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


# stage_tuple's part taken from the validated row, and the same for a delete: the
# row's key, as_of and action; None for what a delete does not report.
_FROM_ROW = operator.attrgetter(*columns.STAGE_FROM_ROW)
_DELETE_KEEPS = frozenset((*columns.DELETE_REQUIRED_COLUMNS, "action"))


def _delete_from_row(clean: CleanRow) -> tuple:
    return tuple(
        getattr(clean, name) if name in _DELETE_KEEPS else None
        for name in columns.STAGE_FROM_ROW
    )


def stage_tuple(
    row_no: int,
    clean: CleanRow,
    chain: identity_keys.KeyChain,
    id_hash: str | None = None,
) -> tuple:
    """The COPY row for `ingest_stage`, in `columns.STAGE_COLUMNS` order: the
    computed values (`columns.STAGE_DERIVED`), then the row's own: identity hashed
    (current key, or the hash the caller already computed) and masked, clear text
    dropped."""
    id_hash = id_hash or chain.current_hash(clean.id_type, clean.id_number)
    id_masked = identity.mask_identity(clean.id_type, clean.id_number)
    if clean.action == "delete":
        return (
            row_no,
            id_hash,
            id_masked,
            None,
            None,
            None,
            row_hash(clean),
            *_delete_from_row(clean),
        )
    phone_hash = chain.phone_hash(clean.phone) if clean.phone else None
    phone_masked = identity.mask_phone(clean.phone) if clean.phone else None
    return (
        row_no,
        id_hash,
        id_masked,
        phone_hash,
        phone_masked,
        month_status(clean.status, clean.days_overdue),
        row_hash(clean),
        *_FROM_ROW(clean),
    )


def _chunks(
    batch: Batch,
    stream,
    *,
    skip_rows: int,
    chunk_rows: int,
    chain: identity_keys.KeyChain,
    today: date,
    lift: bool = False,
) -> Iterator[Chunk]:
    """Group the file's rows into chunks of `chunk_rows` source rows, validated."""
    validator = RowValidator(today=today)
    chunk = Chunk(index=skip_rows // chunk_rows)
    for row_no, values, read_errors in stream:
        if row_no <= skip_rows:
            continue  # committed by an earlier run
        chunk.source_rows += 1
        errors = list(read_errors)
        clean = None
        if values is not None and not errors:
            clean, errors = validator.validate(row_no, values)
        if errors or clean is None:
            chunk.errors.extend(errors)
            chunk.rejected_rows += 1
        else:
            # Encoded now, in the producer thread: a COPY line is ~300 bytes where
            # the typed tuple is ~2 KB, and the writer thread only sends bytes.
            id_hash = None
            if lift:
                # One walk of the key chain gives the current hash and the older
                # links whose subjects must move up first.
                links = chain.hashes(clean.id_type, clean.id_number)
                id_hash = links[-1][1]
                chunk.lifts.extend(
                    (clean.id_type, older, id_hash) for _, older in links[:-1]
                )
            line = merge.copy_line(stage_tuple(row_no, clean, chain, id_hash))
            chunk.rows.append(line)
        if row_no % chunk_rows == 0:
            chunk.bytes_read = stream.bytes_read
            yield chunk
            chunk = Chunk(index=chunk.index + 1)
    if chunk.source_rows:
        chunk.bytes_read = stream.bytes_read
        yield chunk


def _copy_errors(batch_id: int, errors: list[RowError]) -> None:
    if not errors:
        return
    with connection.cursor() as cursor:
        copy_sql = (
            f"COPY {BatchError._meta.db_table}"
            ' (batch_id, "row", "column", code, message, value) FROM STDIN'
        )
        with cursor.cursor.copy(copy_sql) as copy:
            for error in errors:
                copy.write_row(
                    (
                        batch_id,
                        error.row,
                        error.column[:64],
                        error.code,
                        error.message[:300],
                        error.value[:120],
                    )
                )


def _commit_chunk(
    batch: Batch,
    chunk: Chunk,
    *,
    write: bool,
    progress: float,
    chain: identity_keys.KeyChain,
) -> merge.ChunkOutcome:
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Sorting a chunk's month rows must not spill to disk.
            cursor.execute("SET LOCAL work_mem = '64MB'")
            # Don't wait for this chunk's WAL flush. A chunk and its resume point
            # commit together, so a server crash can only lose whole recent chunks,
            # which the re-run redoes; the final status update commits
            # synchronously, which flushes every chunk before it.
            cursor.execute("SET LOCAL synchronous_commit = off")
        done = Batch.objects.select_for_update().values_list("chunks_done", flat=True)
        if done.get(pk=batch.pk) != chunk.index:
            raise ChunkAlreadyDone(f"chunk {chunk.index} of batch {batch.pk}")
        outcome = merge.ChunkOutcome()
        if chunk.lifts:
            # Rotation in progress: a subject still on an older key would not match
            # the current hash in the merge and be duplicated. Moving it first is the
            # same change `rotate_identity_key` makes (validate-only runs too: the
            # subject stays the same person, only its hash's key changes).
            identity_keys.lift_subjects(chain, chunk.lifts)
        if chunk.rows:
            merge.stage_rows(chunk.rows)
            outcome = merge.merge_staged(
                batch_id=batch.pk,
                member_id=batch.member_id,
                key_version=chain.current_version,
                write=write,
            )
        _copy_errors(batch.pk, chunk.errors)
        counts = outcome.outcomes
        rejected = chunk.rejected_rows + outcome.reaging
        Batch.objects.filter(pk=batch.pk).update(
            chunks_done=chunk.index + 1,
            progress=min(progress, 0.99),
            rows_total=F("rows_total") + chunk.source_rows,
            rows_rejected=F("rows_rejected") + rejected,
            rows_accepted=F("rows_accepted") + chunk.source_rows - rejected,
            rows_duplicate=F("rows_duplicate")
            + counts["duplicate"]
            + counts["supersede"],
            rows_stale=F("rows_stale") + counts["stale"],
            rows_unchanged=F("rows_unchanged") + counts["unchanged"],
            records_created=F("records_created") + counts["create"],
            records_updated=F("records_updated") + counts["update"],
            records_deleted=F("records_deleted")
            + (outcome.deleted if write else counts["delete"]),
        )
    return outcome


@contextlib.contextmanager
def _member_lock(member_id: int):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", [MEMBER_LOCK_SPACE, member_id]
        )
        if not cursor.fetchone()[0]:
            raise BatchBusy(f"member {member_id} has a batch in progress")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_unlock(%s, %s)", [MEMBER_LOCK_SPACE, member_id]
            )


def validation_day(batch: Batch) -> date:
    """The day rows are checked against ("not in the future", "not older than 5
    years"): the day the batch started, so a run resumed after midnight checks
    the rest of the file as the first run checked its beginning."""
    return timezone.localdate(batch.started_at or timezone.now())


def _verify(batch: Batch) -> None:
    """Read the whole file through before anything of it is written (FileRejected
    when it cannot be applied whole). Once per batch: a run that resumes after
    chunks were applied has verified it already."""
    if batch.verified_at is not None or _applied_anything(batch):
        return
    with batch.file.open("rb") as handle:
        _, encoding = verify_file(
            handle,
            fmt=batch.format,
            encoding=batch.encoding or None,
            max_text_bytes=settings.BUREAU_MAX_BATCH_TEXT_BYTES,
            max_rows=settings.BUREAU_MAX_BATCH_ROWS,
            max_expansion=settings.BUREAU_MAX_BATCH_EXPANSION,
            sha256=batch.sha256,
        )
    batch.verified_at = timezone.now()
    batch.encoding = batch.encoding or encoding
    Batch.objects.filter(pk=batch.pk).update(
        verified_at=batch.verified_at, encoding=batch.encoding
    )


def _run_pass(batch: Batch, *, write: bool) -> None:
    chunk_rows = settings.BUREAU_INGEST_CHUNK_ROWS
    with batch.file.open("rb") as handle:
        stream = open_rows(handle, fmt=batch.format, encoding=batch.encoding or None)
        try:
            skip = batch.chunks_done * chunk_rows
            chain = identity_keys.key_chain()
            chunks = _chunks(
                batch,
                stream,
                skip_rows=skip,
                chunk_rows=chunk_rows,
                chain=chain,
                today=validation_day(batch),
                lift=identity_keys.rotation_pending(chain),
            )
            statistics = merge.PlannerStatistics() if write else None
            for chunk in prefetch(chunks):
                progress = chunk.bytes_read / max(batch.size_bytes, 1)
                if batch.strict and not batch.strict_passed:
                    progress /= 2  # the validation pass is the first half
                elif batch.strict:
                    progress = 0.5 + progress / 2
                outcome = _commit_chunk(
                    batch, chunk, write=write, progress=progress, chain=chain
                )
                batch.chunks_done = chunk.index + 1
                if statistics is not None:
                    statistics.note_created(outcome.outcomes["create"])
        finally:
            stream.close()


def _strict_refused(batch: Batch) -> bool:
    batch.refresh_from_db()
    if batch.rows_total == 0:
        return False
    return batch.rows_rejected / batch.rows_total > settings.BUREAU_MAX_REJECT_RATIO


def _reset_for_write_pass(batch: Batch) -> None:
    with transaction.atomic():
        BatchError.objects.filter(batch=batch).delete()
        Batch.objects.filter(pk=batch.pk).update(
            strict_passed=True,
            chunks_done=0,
            rows_total=0,
            rows_accepted=0,
            rows_rejected=0,
            rows_duplicate=0,
            rows_stale=0,
            rows_unchanged=0,
            records_created=0,
            records_updated=0,
            records_deleted=0,
        )
    batch.refresh_from_db()


def _finish(batch: Batch, *, status: str, reason: str = "") -> None:
    touched = BatchSubject.objects.filter(batch=batch).count()
    with transaction.atomic():
        Batch.objects.filter(pk=batch.pk).update(
            status=status,
            progress=1.0,
            failure_reason=reason,
            subjects_touched=touched,
            finished_at=timezone.now(),
        )
        accepted = status != Batch.Status.FAILED and not batch.validate_only
        if accepted:
            # The member furnishes from its first accepted batch on (one
            # conditional UPDATE: set once, never moved).
            Member.objects.filter(
                pk=batch.member_id, contributes_since__isnull=True
            ).update(contributes_since=timezone.localdate())
        if touched and not batch.validate_only:
            # Hand-off: the touched subjects' profiles are recomputed in chunks.
            transaction.on_commit(lambda: _enqueue_aggregation(batch.pk))
        _announce_final(batch.pk)
        # Give-to-get is cached; a finished batch may open (or keep) access.
        transaction.on_commit(
            lambda: member_contribution_changed(member_id=batch.member_id)
        )
    batch.refresh_from_db()


def member_contribution_changed(*, member_id: int) -> None:
    """Forget the member's cached give-to-get answer (selectors'
    `member_last_contribution`): called on commit by what changes it, a batch
    reaching a final status."""
    cache.delete(contribution_cache_key(member_id))


def _enqueue_aggregation(batch_id: int) -> None:
    from bureau.records.tasks import aggregate_batch

    aggregate_batch.delay(batch_id)


def _announce_final(batch_id: int) -> None:
    """`batch_finished` once the final status commits (reports sends the
    member's webhooks batch.completed)."""
    batch_finished.send_on_commit(Batch, batch_id=batch_id)


# Batches of which nothing is applied yet: validate-only ones, those whose write
# pass has not committed a chunk, and strict ones still in their validation pass.
NOTHING_APPLIED = (
    Q(validate_only=True) | Q(chunks_done=0) | Q(strict=True, strict_passed=False)
)


def _applied_anything(batch: Batch) -> bool:
    return not batch.validate_only and (
        batch.chunks_done > 0 and (batch.strict_passed or not batch.strict)
    )


def batch_fail(*, batch_id: int, reason: str) -> bool:
    """Mark a batch failed (not retryable: the file itself is at fault), but only
    while nothing of it is applied: `failed` promises that. Returns False for a
    batch already final or already partly applied (that one is resumed instead)."""
    failed = (
        Batch.objects.filter(pk=batch_id)
        .filter(NOTHING_APPLIED)
        .exclude(status__in=Batch.FINAL_STATUSES)
        .update(
            status=Batch.Status.FAILED,
            failure_reason=reason[:2000],
            finished_at=timezone.now(),
        )
    )
    if failed:
        _announce_final(batch_id)
    else:
        logger.error(
            "batch not failed: already final or partly applied; it will be resumed",
            extra={"kv": {"batch": batch_id}},
        )
    return bool(failed)


def batch_ingest(*, batch_id: int) -> Batch | None:
    """Run (or resume) a batch to a final status. Safe to call again at any point.
    The member's earlier batches that are not final yet run first, in upload
    order, in this same call."""
    batch = Batch.objects.select_related("member").filter(pk=batch_id).first()
    if batch is None:
        logger.warning("batch to ingest not found", extra={"kv": {"batch": batch_id}})
        return None
    if batch.is_final:
        return batch
    with _member_lock(batch.member_id):
        if not batch.validate_only:
            for earlier in batches_ahead(batch):
                _ingest_locked(earlier)
        batch.refresh_from_db()
        return _ingest_locked(batch)


def _ingest_locked(batch: Batch) -> Batch:
    """One batch to a final status, under its member's lock."""
    batch.refresh_from_db()
    if batch.is_final:
        return batch
    Batch.objects.filter(pk=batch.pk, started_at__isnull=True).update(
        started_at=timezone.now()
    )
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.PROCESSING)
    batch.refresh_from_db()
    try:
        _verify(batch)
        if batch.strict and not batch.strict_passed:
            _run_pass(batch, write=False)
            if _strict_refused(batch):
                batch.refresh_from_db()
                _finish(
                    batch,
                    status=Batch.Status.FAILED,
                    reason=(
                        f"strict: {batch.rows_rejected} of {batch.rows_total} rows "
                        "rejected; nothing was written (see the errors)"
                    ),
                )
                return batch
            _reset_for_write_pass(batch)
        _run_pass(batch, write=not batch.validate_only)
    except FileRejected as exc:
        batch.refresh_from_db()
        if _applied_anything(batch):
            # Verified whole before the first write, so the file did not change
            # under us... unless its storage did. Resume, never half-fail.
            raise BatchStopped(
                f"batch {batch.pk}: {exc.code} after rows were applied"
            ) from exc
        _finish(batch, status=Batch.Status.FAILED, reason=f"{exc.code}: {exc.detail}")
        return batch
    batch.refresh_from_db()
    status = (
        Batch.Status.COMPLETED_WITH_ERRORS
        if batch.rows_rejected
        else Batch.Status.COMPLETED
    )
    _finish(batch, status=status)
    logger.info(
        "batch ingested",
        extra={
            "kv": {"batch": batch.pk, "status": batch.status, "rows": batch.rows_total}
        },
    )
    return batch


def member_busy(member_id: int) -> bool:
    """Does a live session hold this member's ingest lock? (A worker that died
    lost it with its database session.) Read from pg_locks, so asking never takes
    the lock from under a run that is starting."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
            " AND classid = %s AND objid = %s AND objsubid = 2 AND granted"
            " AND database = (SELECT oid FROM pg_database"
            " WHERE datname = current_database()))",
            [MEMBER_LOCK_SPACE, member_id],
        )
        return cursor.fetchone()[0]


def batches_resume_stalled(*, received_grace: timedelta | None = None) -> list[int]:
    """Hand on the batches nobody is working on: `processing` ones whose member
    lock no session holds (their worker died: a lost machine, an OOM kill, whose
    unacknowledged message returns only after the broker's visibility timeout),
    and `received` ones waiting longer than `received_grace` whose member is idle
    (a lost message). Per idle member it queues the earliest batch that applies
    rows (that run applies the member's later ones too) and any validate-only
    one. Returns the batch ids queued."""
    grace = received_grace or timedelta(
        seconds=settings.BUREAU_INGEST_RECEIVED_GRACE_SECONDS
    )
    waiting = (
        Batch.objects.exclude(status__in=Batch.FINAL_STATUSES)
        .filter(
            Q(status=Batch.Status.PROCESSING)
            | Q(received_at__lt=timezone.now() - grace)
        )
        .order_by("member_id", "pk")
        .values_list("member_id", "pk", "validate_only")
    )
    # Per member: its earliest batch that applies rows (that run applies the later
    # ones too), and every validate-only one (those wait for nobody).
    by_member: dict[int, list[int]] = {}
    has_writer: set[int] = set()
    for member_id, batch_id, validate_only in waiting:
        if validate_only or member_id not in has_writer:
            by_member.setdefault(member_id, []).append(batch_id)
        if not validate_only:
            has_writer.add(member_id)
    queued = [
        batch_id
        for member_id, batch_ids in by_member.items()
        if not member_busy(member_id)
        for batch_id in batch_ids
    ]
    if queued:
        from bureau.records.tasks import ingest_batch

        for batch_id in queued:
            ingest_batch.delay(batch_id)
        logger.warning("stalled batches handed on", extra={"kv": {"batches": queued}})
    return queued
