"""Raw uploaded files do not outlive their job.

A batch's file (and a screening's, reports/services/screening.py) holds every
identity number of the upload in clear. Once the job is final nothing reads it
again: a re-run of a final batch returns at once, and idempotency keys on the
stored sha256 and Idempotency-Key, which stay on the row. So the file is deleted
when the job ends, or `BUREAU_RAW_FILE_KEEP_HOURS` after (support may want to
look at a file for a while), and never before: a batch that is not final resumes
from its file after a crash.

Deleting is idempotent and audited once (`<kind>.file_deleted`): the file is
removed from storage first, then the row's `file` is emptied by one conditional
UPDATE; a crash in between leaves a row whose next deletion finds no file, and
a concurrent deleter loses the UPDATE and audits nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone

from bureau.audit.services import audit_record
from bureau.records.models import Batch

logger = logging.getLogger("bureau.raw_files")

SYSTEM_ACTOR = "task:raw_files"


@dataclass(frozen=True)
class RawFileKind:
    """A model whose rows own a raw file: `status`, `file`, `finished_at`,
    `member_id`. `details` gives the audit details of a deletion (no file name,
    nothing identifying)."""

    model: type[models.Model]
    final_statuses: frozenset[str]
    action: str
    details: Callable[[Any], dict[str, Any]]


BATCH_FILES = RawFileKind(
    model=Batch,
    final_statuses=frozenset(Batch.FINAL_STATUSES),
    action="batch.file_deleted",
    details=lambda batch: {"status": batch.status, "sha256": batch.sha256},
)


def keep_until_cutoff(now: datetime | None = None) -> datetime:
    """Files of jobs finished at or before this moment may go."""
    hours = settings.BUREAU_RAW_FILE_KEEP_HOURS
    return (now or timezone.now()) - timedelta(hours=hours)


def _due(kind: RawFileKind, *, now: datetime | None) -> models.QuerySet:
    return (
        kind.model._default_manager.filter(
            status__in=kind.final_statuses,
            finished_at__lte=keep_until_cutoff(now),
        )
        .exclude(file="")
        .order_by("pk")
    )


def raw_file_delete(kind: RawFileKind, *, pk: int, now: datetime | None = None) -> bool:
    """Delete the raw file of row `pk` if its job is final and its keep time is
    over; True when this call did it. Safe to call at any time, any number of
    times, from any process."""
    row = _due(kind, now=now).filter(pk=pk).first()
    if row is None:
        return False  # not final, kept a while longer, or already deleted
    name = row.file.name
    default_storage.delete(name)  # no error when it is gone already
    with transaction.atomic():
        emptied = kind.model._default_manager.filter(
            pk=pk, file=name, status__in=kind.final_statuses
        ).update(file="")
        if emptied:
            audit_record(
                actor=SYSTEM_ACTOR,
                action=kind.action,
                obj=row,
                member=row.member_id,
                details={
                    **kind.details(row),
                    "keep_hours": settings.BUREAU_RAW_FILE_KEEP_HOURS,
                },
            )
    return bool(emptied)


def raw_files_sweep(kind: RawFileKind, *, now: datetime | None = None) -> int:
    """Delete every raw file whose keep time is over (the maintenance job; also
    the safety net for jobs that ended where nothing deleted their file, e.g. a
    worker lost right after the final commit). Returns how many were deleted."""
    deleted = 0
    for pk in _due(kind, now=now).values_list("pk", flat=True).iterator():
        deleted += raw_file_delete(kind, pk=pk, now=now)
    if deleted:
        logger.info(
            "raw files deleted", extra={"kv": {"kind": kind.action, "n": deleted}}
        )
    return deleted


def batch_file_delete(*, batch_id: int) -> bool:
    """`raw_file_delete` for a batch: call it whenever a batch may have ended."""
    return raw_file_delete(BATCH_FILES, pk=batch_id)
