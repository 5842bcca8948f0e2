"""A screening's raw file (every person's identity number in clear) is deleted
once the screening ends, or BUREAU_RAW_FILE_KEEP_HOURS after: the rules of
bureau/records/services/raw_files.py, applied to screenings."""

from __future__ import annotations

from bureau.records.services.raw_files import (
    RawFileKind,
    raw_file_delete,
    raw_files_sweep,
)
from reports.models import Screening

SCREENING_FILES = RawFileKind(
    model=Screening,
    final_statuses=frozenset({Screening.Status.COMPLETED, Screening.Status.FAILED}),
    action="screening.file_deleted",
    details=lambda screening: {"status": screening.status},
)


def screening_file_delete(*, screening_id: int) -> bool:
    """Delete a final screening's file once its keep time is over (idempotent)."""
    return raw_file_delete(SCREENING_FILES, pk=screening_id)


def screening_files_sweep() -> int:
    """The maintenance job: every screening file whose keep time is over."""
    return raw_files_sweep(SCREENING_FILES)
