"""Retention: negative records are purged BUREAU_RETENTION_YEARS (default 5) after
they ended.

The rule, kept simple on purpose:
- negative = status overdue/default/written_off, or days_overdue > 0, or a
  first_delinquency_on on file, or a delinquent month (1-7, D, Z) in its history.
  Records that were never delinquent are not touched by this job.
- ended = the as_of of the report on file: for a settled/closed account that is
  the settling report, for any other the last report.
- purged when that date is at least N years before today.

A purge deletes the records with their months (RecordMonth has no database
cascade) and their disputes, set-based, one transaction per chunk of records,
recomputes the affected profiles in the same transaction (≤ 5,000 subjects a
statement, watchers alerted as after an ingest) and appends one audit event per
chunk with counts only. Tombstones stay. A crash leaves whole chunks done or
not: a re-run finishes the job.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from bureau.audit.services import audit_record, redact_identity
from bureau.records.fileformat.validation import years_before
from bureau.records.services.aggregate import profiles_refresh_and_alert
from bureau.records.services.ingest import MEMBER_LOCK_SPACE

SYSTEM_ACTOR = "system:retention"
PURGE_CHUNK_RECORDS = 10_000

_EXPIRED = """
  FROM records_record r JOIN members_member mem ON mem.id = r.member_id
 WHERE r.as_of <= %(cutoff)s
   AND (r.status IN ('overdue', 'default', 'written_off')
        OR r.days_overdue > 0
        OR r.first_delinquency_on IS NOT NULL
        OR EXISTS (SELECT 1 FROM records_recordmonth h
                    WHERE h.record_id = r.id
                      AND h.status IN ('1', '2', '3', '4', '5', '6', '7', 'D', 'Z')))
"""
_COUNT_EXPIRED = (
    "SELECT mem.code, r.status, count(*)" + _EXPIRED + " GROUP BY 1, 2 ORDER BY 1, 2"
)
_COUNT_SUBJECTS = "SELECT count(DISTINCT r.subject_id)" + _EXPIRED
# Records of a member whose batch is being ingested are left for the next run: the
# merge classifies a chunk against the records it read, and a record purged under
# it would lose the newer report. The member's ingest lock is held (until this
# chunk commits) for every record claimed, so no batch of theirs starts meanwhile
# (one that tries is retried by its task a few seconds later).
_CLAIM_CHUNK = (
    "SELECT r.id, r.subject_id, mem.code, r.status"
    + _EXPIRED
    + " AND pg_try_advisory_xact_lock(%(lock_space)s, r.member_id::integer)"
    " ORDER BY r.id LIMIT %(limit)s FOR UPDATE OF r"
)


@dataclass
class PurgeResult:
    cutoff: date
    dry_run: bool
    records: int = 0
    months: int = 0
    disputes: int = 0
    subjects: int = 0
    by_member_status: Counter = field(default_factory=Counter)


def retention_cutoff(*, now: datetime | None = None) -> date:
    """Records that ended on or before this date are due for purging."""
    today = timezone.localdate(now) if now else timezone.localdate()
    return years_before(today, settings.BUREAU_RETENTION_YEARS)


def _purge_chunk(cursor, *, cutoff: date, limit: int) -> tuple[int, PurgeResult]:
    cursor.execute(
        _CLAIM_CHUNK,
        {"cutoff": cutoff, "limit": limit, "lock_space": MEMBER_LOCK_SPACE},
    )
    rows = cursor.fetchall()
    part = PurgeResult(cutoff=cutoff, dry_run=False)
    if not rows:
        return 0, part
    ids = [row[0] for row in rows]
    subject_ids = sorted({row[1] for row in rows})
    part.by_member_status.update((code, status) for _, _, code, status in rows)
    cursor.execute("DELETE FROM records_recordmonth WHERE record_id = ANY(%s)", [ids])
    part.months = cursor.rowcount
    cursor.execute("DELETE FROM records_dispute WHERE record_id = ANY(%s)", [ids])
    part.disputes = cursor.rowcount
    cursor.execute("DELETE FROM records_record WHERE id = ANY(%s)", [ids])
    part.records = cursor.rowcount
    part.subjects = len(subject_ids)
    profiles_refresh_and_alert(subject_ids)
    return len(rows), part


def _audit(part: PurgeResult, *, run: str, chunk: int, years: int) -> None:
    by_member: Counter = Counter()
    by_status: Counter = Counter()
    for (code, status), count in part.by_member_status.items():
        by_member[code] += count
        by_status[status] += count
    audit_record(
        actor=SYSTEM_ACTOR,
        action="records.purge_expired",
        object_type="records.record",
        details={
            "run": run,
            "chunk": chunk,
            "cutoff": part.cutoff.isoformat(),
            "years": years,
            "records": part.records,
            "months": part.months,
            "disputes": part.disputes,
            "subjects": part.subjects,
            "by_member": {
                redact_identity(code): n for code, n in sorted(by_member.items())
            },
            "by_status": dict(sorted(by_status.items())),
        },
    )


def records_purge_expired(
    *, now: datetime | None = None, dry_run: bool = False
) -> PurgeResult:
    """Purge (or, with `dry_run`, only count) the expired negative records."""
    cutoff = retention_cutoff(now=now)
    result = PurgeResult(cutoff=cutoff, dry_run=dry_run)
    if dry_run:
        with connection.cursor() as cursor:
            cursor.execute(_COUNT_EXPIRED, {"cutoff": cutoff})
            for code, status, count in cursor.fetchall():
                result.by_member_status[(code, status)] = count
                result.records += count
            cursor.execute(_COUNT_SUBJECTS, {"cutoff": cutoff})
            result.subjects = cursor.fetchone()[0]
        return result
    run = uuid.uuid4().hex
    chunk = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            claimed, part = _purge_chunk(
                cursor, cutoff=cutoff, limit=PURGE_CHUNK_RECORDS
            )
            if claimed or chunk == 0:  # every run leaves at least one event
                _audit(
                    part, run=run, chunk=chunk, years=settings.BUREAU_RETENTION_YEARS
                )
        result.records += part.records
        result.months += part.months
        result.disputes += part.disputes
        result.subjects += part.subjects
        result.by_member_status.update(part.by_member_status)
        chunk += 1
        if claimed < PURGE_CHUNK_RECORDS:
            return result
