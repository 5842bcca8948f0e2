"""Comparable snapshots of stored records (ids, timestamps and batch ids left out)."""

from bureau.records.columns import RECORD_COLUMNS
from bureau.records.models import Batch, BatchError, Record, RecordMonth

RECORD_FIELDS = (
    "subject__id_hash",
    "account_no",
    *(column.record_field for column in RECORD_COLUMNS),
)
COUNTERS = (
    "status",
    "rows_total",
    "rows_accepted",
    "rows_rejected",
    "rows_duplicate",
    "rows_stale",
    "rows_unchanged",
    "records_created",
    "records_updated",
    "records_deleted",
    "subjects_touched",
    "progress",
)


def records_of(member) -> list[tuple]:
    return sorted(Record.objects.filter(member=member).values_list(*RECORD_FIELDS))


def months_of(member) -> list[tuple]:
    return sorted(
        RecordMonth.objects.filter(record__member=member).values_list(
            "record__subject__id_hash", "record__account_no", "month", "status", "as_of"
        )
    )


def batch_counters(batch: Batch) -> dict:
    batch.refresh_from_db()
    return {name: getattr(batch, name) for name in COUNTERS}


def batch_errors_of(batch: Batch) -> list[tuple]:
    return sorted(
        BatchError.objects.filter(batch=batch).values_list(
            "row", "column", "code", "value"
        )
    )
