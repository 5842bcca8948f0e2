"""Celery tasks: thin, take ids, call a service, safe to run again."""

import logging

from celery import shared_task
from django.db import OperationalError

from bureau.records.fileformat import FileRejected
from bureau.records.selectors import batch_subject_ids
from bureau.records.services.aggregate import (
    profiles_refresh_and_alert,
    subject_chunks,
)
from bureau.records.services.disputes import disputes_suppress_overdue
from bureau.records.services.ingest import (
    BatchBusy,
    BatchStopped,
    ChunkAlreadyDone,
    batch_fail,
    batch_ingest,
    batches_resume_stalled,
)
from bureau.records.services.raw_files import (
    BATCH_FILES,
    batch_file_delete,
    raw_files_sweep,
)
from bureau.records.services.retention import records_purge_expired

logger = logging.getLogger("bureau.ingest")


@shared_task(
    bind=True,
    name="bureau.records.tasks.ingest_batch",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=8,
    acks_late=True,
)
def ingest_batch(self, batch_id: int) -> str:
    """Run a batch to a final status, then delete its raw file (a final batch
    never reads it again; `BUREAU_RAW_FILE_KEEP_HOURS` may keep it a while, and
    the maintenance sweep deletes it then). Done here, after the final status is
    committed, rather than inside the ingest: a duplicate delivery of a final
    batch deletes a file a lost worker left behind, and the ingest service stays
    about rows."""
    try:
        batch = batch_ingest(batch_id=batch_id)
    except (BatchBusy, ChunkAlreadyDone) as exc:
        # Another run holds the member (or got here first): come back later;
        # the re-run resumes from the last committed chunk.
        raise self.retry(exc=exc, countdown=5, max_retries=720) from exc
    except FileRejected as exc:
        _fail(batch_id, reason=f"{exc.code}: {exc.detail}")
        return "failed"
    except OperationalError:
        if self.request.retries >= self.max_retries:
            _fail(batch_id, reason="database unavailable; retries exhausted")
        raise
    except BatchStopped as exc:
        # Partly applied: it can only go forward. The stalled-batch sweep hands it
        # on again; an operator sees the error in the log meanwhile.
        logger.exception("ingest stopped", extra={"kv": {"batch": batch_id}})
        raise self.retry(exc=exc, countdown=60, max_retries=10) from exc
    except Exception:
        logger.exception("ingest failed", extra={"kv": {"batch": batch_id}})
        # Fails the batch only while nothing of it is applied (`failed` applies
        # nothing); otherwise it stays `processing` and the sweep resumes it.
        _fail(batch_id, reason="internal error while ingesting (logged)")
        raise
    if batch is not None and batch.is_final:
        batch_file_delete(batch_id=batch.pk)
    return batch.status if batch else "missing"


def _fail(batch_id: int, *, reason: str) -> None:
    batch_fail(batch_id=batch_id, reason=reason)
    batch_file_delete(batch_id=batch_id)


@shared_task(
    name="bureau.records.tasks.maintenance_resume_stalled_batches",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    acks_late=True,
)
def maintenance_resume_stalled_batches() -> list[int]:
    """Every minute, and when a worker starts: queue the batches nobody works on."""
    return batches_resume_stalled()


@shared_task(
    name="bureau.records.tasks.aggregate_subjects",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=8,
    acks_late=True,
)
def aggregate_subjects(subject_ids: list[int]) -> int:
    """Recompute profiles of ≤ 5k subjects (idempotent: a re-run gives the same),
    then alert the members watching any of them."""
    return profiles_refresh_and_alert(subject_ids)


@shared_task(
    name="bureau.records.tasks.aggregate_batch",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    acks_late=True,
)
def aggregate_batch(batch_id: int) -> int:
    """Fan a finished batch's touched subjects out to aggregate_subjects chunks."""
    chunks = 0
    for chunk in subject_chunks(batch_subject_ids(batch_id=batch_id)):
        aggregate_subjects.delay(chunk)
        chunks += 1
    return chunks


@shared_task(
    bind=True,
    name="bureau.records.tasks.maintenance_suppress_overdue_disputes",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    acks_late=True,
)
def maintenance_suppress_overdue_disputes(self) -> int:
    """Daily: suppress records whose dispute went unanswered past its deadline
    (idempotent: a dispute is suppressed once)."""
    return disputes_suppress_overdue().disputes


@shared_task(
    bind=True,
    name="bureau.records.tasks.maintenance_purge_expired",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    acks_late=True,
)
def maintenance_purge_expired(self) -> int:
    """Daily: purge negative records past retention (a re-run finishes the job)."""
    return records_purge_expired().records


@shared_task(
    bind=True,
    name="bureau.records.tasks.maintenance_delete_raw_files",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    acks_late=True,
)
def maintenance_delete_raw_files(self) -> int:
    """Every 15 minutes: delete the raw files of batches final for longer than
    BUREAU_RAW_FILE_KEEP_HOURS (idempotent; audited per file)."""
    return raw_files_sweep(BATCH_FILES)
