"""Set-based merge of one chunk of accepted rows into Record, in PostgreSQL.

Rows arrive by COPY in a session temp table `ingest_stage`; one statement classifies
every row against what is stored (create / update / stale / duplicate / reaging /
delete …), then a few set-based statements apply the classification. Counts come
from the classification, never from per-row queries.

Merge rule: for one key (member, account_no, subject) the stored record is the
report with the greatest (as_of, furnished_seq). `furnished_seq` is the furnishing
order, batch id × 2³² + row number (`seq_base` + row_no here): between two reports
with the same as_of the one furnished later wins, never a content hash, so a
same-date correction always sticks. A report identical to the one on file (same
as_of, same values) is `unchanged` and writes nothing. A delete is a report too:
it removes the record when it is the later one and leaves a tombstone, so an older
upsert arriving later stays deleted.

Every chunk of a member's batches is merged in furnishing order (ingest.py runs a
member's batches in upload order, and a file's chunks in turn), so the merge never
has to move a stored furnished_seq forward for an unchanged report.

One deliberate exception: a report without first_delinquency_on (a cured account)
keeps the date already on file, so that field is "earliest reported while the
record lives".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db import connection

from bureau.records import columns
from bureau.records.models import (
    BatchError,
    BatchSubject,
    Record,
    RecordMonth,
    RecordTombstone,
    Subject,
)

# Table names for the raw SQL below, from the models.
SUBJECT = Subject._meta.db_table
RECORD = Record._meta.db_table
TOMBSTONE = RecordTombstone._meta.db_table
MONTH = RecordMonth._meta.db_table
BATCH_ERROR = BatchError._meta.db_table
BATCH_SUBJECT = BatchSubject._meta.db_table

# The staging table, its COPY column list and the Record columns the merge writes
# all come from the column spec (bureau/records/columns.py).
STAGE_COLUMNS = columns.STAGE_COLUMNS

_CREATE_TEMP_TABLES = f"""
CREATE TEMP TABLE IF NOT EXISTS ingest_stage (
    {columns.stage_table_columns()}
);
CREATE TEMP TABLE IF NOT EXISTS ingest_classified (
    LIKE ingest_stage,
    seq bigint NOT NULL,
    subject_id bigint,
    record_id bigint,
    tomb_as_of date,
    tomb_seq bigint,
    outcome text NOT NULL
);
TRUNCATE ingest_stage, ingest_classified;
"""

_UPSERT_SUBJECTS = f"""
INSERT INTO {SUBJECT}
       (id_type, id_hash, key_version, id_masked, name, name_as_of, name_seq,
        created_at)
SELECT DISTINCT ON (id_type, id_hash)
       id_type, id_hash, %(key_version)s, id_masked,
       coalesce(name, ''),
       CASE WHEN action = 'delete' THEN DATE '1900-01-01' ELSE as_of END,
       CASE WHEN action = 'delete' THEN 0 ELSE %(seq_base)s + row_no END,
       now()
  FROM ingest_stage
 ORDER BY id_type, id_hash, (action = 'upsert') DESC, as_of DESC, row_no DESC
ON CONFLICT (id_type, id_hash) DO UPDATE
   SET name = EXCLUDED.name, name_as_of = EXCLUDED.name_as_of,
       name_seq = EXCLUDED.name_seq
 WHERE (EXCLUDED.name_as_of, EXCLUDED.name_seq)
     > ({SUBJECT}.name_as_of, {SUBJECT}.name_seq)
"""

# One row per staged row with its outcome. `rank` > 1: a later report of the same
# key in this chunk (newer as_of, or the same as_of further down the file).
# `r.batch_id` = this batch: an earlier chunk of the same file. An identical report
# (same as_of, same digest) is unchanged whatever its place: it would write nothing.
_CLASSIFY = f"""
INSERT INTO ingest_classified
SELECT s.*, %(seq_base)s + s.row_no, sub.id, r.id, t.as_of, t.furnished_seq,
       CASE
         WHEN ranked.rank > 1 THEN 'duplicate'
         WHEN s.action = 'upsert' AND t.as_of IS NOT NULL
          AND (t.as_of, t.furnished_seq) > (s.as_of, %(seq_base)s + s.row_no)
           THEN 'stale'
         WHEN s.action = 'upsert' AND r.id IS NULL THEN 'create'
         WHEN s.action = 'upsert' AND s.as_of = r.as_of AND s.row_hash = r.row_hash
           THEN CASE WHEN r.batch_id = %(batch_id)s THEN 'duplicate'
                     ELSE 'unchanged' END
         WHEN s.action = 'upsert'
          AND (s.as_of, %(seq_base)s + s.row_no) > (r.as_of, r.furnished_seq)
           THEN CASE
             WHEN r.first_delinquency_on IS NOT NULL
              AND s.first_delinquency_on > r.first_delinquency_on THEN 'reaging'
             WHEN r.batch_id = %(batch_id)s THEN 'supersede'
             ELSE 'update' END
         WHEN s.action = 'upsert'
           THEN CASE WHEN r.batch_id = %(batch_id)s THEN 'duplicate' ELSE 'stale' END
         WHEN r.id IS NULL THEN 'delete_absent'
         WHEN (s.as_of, %(seq_base)s + s.row_no) > (r.as_of, r.furnished_seq)
           THEN 'delete'
         ELSE 'stale'
       END
  FROM ingest_stage s
  JOIN (SELECT row_no,
               row_number() OVER (
                 PARTITION BY id_type, id_hash, account_no
                 ORDER BY as_of DESC, row_no DESC
               ) AS rank
          FROM ingest_stage) ranked USING (row_no)
  LEFT JOIN {SUBJECT} sub
         ON sub.id_type = s.id_type AND sub.id_hash = s.id_hash
  LEFT JOIN {RECORD} r
         ON r.member_id = %(member_id)s AND r.subject_id = sub.id
        AND r.account_no = s.account_no
  LEFT JOIN {TOMBSTONE} t
         ON t.member_id = %(member_id)s AND t.subject_id = sub.id
        AND t.account_no = s.account_no
"""

_REAGING_ERRORS = f"""
INSERT INTO {BATCH_ERROR} (batch_id, "row", "column", code, message, value)
SELECT %(batch_id)s, row_no, 'first_delinquency_on', 'reaging',
       'Would move first_delinquency_on later than the date already on file '
       '(re-aging is not allowed).',
       first_delinquency_on::text
  FROM ingest_classified WHERE outcome = 'reaging'
"""


def _insert_value(column: columns.Column) -> str:
    """The staged value as the Record column stores it."""
    if column.empty_when_null:
        return f"coalesce({column.name}, '')"
    return column.name


def _update_value(column: columns.Column) -> str:
    """`SET field = …` of an update: the later report's value, except where the
    spec says otherwise."""
    new = f"c.{column.name}"
    if column.keep_earliest:
        # never later (no re-aging); a cured account keeps its first delinquency
        return f"LEAST(r.{column.record_field}, {new})"
    if column.empty_when_null:
        return f"coalesce({new}, '')"
    return new


def record_insert_fields() -> str:
    """The Record fields the merge writes from a staged row, for INSERT."""
    return ", ".join(c.field for c in columns.RECORD_COLUMNS)


def record_insert_values() -> str:
    """The staged values for `record_insert_fields()`, in the same order."""
    return ", ".join(_insert_value(c) for c in columns.RECORD_COLUMNS)


def record_update_assignments() -> str:
    """The SET list of an update by a later report."""
    return ", ".join(
        f"{c.record_field} = {_update_value(c)}" for c in columns.RECORD_COLUMNS
    )


# Upserts, in one statement: the records (the later report wins), the batch's touched
# subjects, and the months every accepted upsert row reports. Record ids come from
# the classification (stored before this chunk) or from RETURNING (created now), so
# nothing here probes records_record again. Keys the classification found absent
# are plain INSERTs, for records and their months: ON CONFLICT's speculative
# insertion costs twice as much a row (measured 2.0 vs 0.9 µs a month row), and
# one ingest per member runs at a time. Every upsert row later than the key's last
# delete tells the status of its months, even a stale one: per (record, month) the
# greatest (as_of, furnished_seq) wins, so the grid is what furnishing order says.
# A month reported again with the same as_of and status keeps its row (nothing to
# write). A delete later in the same chunk runs after this and erases what it
# covers, by the same order.
_APPLY_UPSERTS = f"""
WITH created AS (
  INSERT INTO {RECORD} (member_id, subject_id, account_no, {record_insert_fields()},
                        furnished_seq, batch_id, created_at, updated_at)
  SELECT %(member_id)s, subject_id, account_no, {record_insert_values()},
         seq, %(batch_id)s, now(), now()
    FROM ingest_classified
   WHERE outcome = 'create'
  RETURNING id, subject_id, account_no
), updated AS (
  UPDATE {RECORD} r SET
      {record_update_assignments()},
      furnished_seq = c.seq, batch_id = %(batch_id)s, updated_at = now()
    FROM ingest_classified c
   WHERE c.outcome IN ('update', 'supersede') AND r.id = c.record_id
     AND (c.as_of, c.seq) > (r.as_of, r.furnished_seq)
  RETURNING r.subject_id
), touched AS (
  INSERT INTO {BATCH_SUBJECT} (batch_id, subject_id)
  SELECT DISTINCT %(batch_id)s, subject_id
    FROM (SELECT subject_id FROM created UNION ALL SELECT subject_id FROM updated) t
  ON CONFLICT (batch_id, subject_id) DO NOTHING
), reported AS (
  SELECT coalesce(c.record_id, a.id) AS record_id, c.record_id IS NULL AS created,
         m.month, m.status, c.as_of, c.seq
    FROM ingest_classified c
    LEFT JOIN created a
      ON c.record_id IS NULL AND a.subject_id = c.subject_id
     AND a.account_no = c.account_no
   CROSS JOIN LATERAL (
         SELECT date_trunc('month', c.as_of)::date AS month, c.month_status AS status
         UNION ALL
         SELECT (date_trunc('month', c.as_of) - make_interval(months => i - 1))::date,
                substr(c.payment_history, i, 1)
           FROM generate_series(2, length(c.payment_history)) AS i
   ) m
   WHERE c.action = 'upsert' AND c.outcome <> 'reaging'
     AND (c.tomb_as_of IS NULL OR (c.as_of, c.seq) > (c.tomb_as_of, c.tomb_seq))
), new_months AS (
  INSERT INTO {MONTH} (record_id, month, status, as_of, furnished_seq)
  SELECT DISTINCT ON (record_id, month) record_id, month, status, as_of, seq
    FROM reported
   WHERE created AND record_id IS NOT NULL
   ORDER BY record_id, month, as_of DESC, seq DESC
)
INSERT INTO {MONTH} (record_id, month, status, as_of, furnished_seq)
SELECT DISTINCT ON (record_id, month) record_id, month, status, as_of, seq
  FROM reported
 WHERE NOT created
 ORDER BY record_id, month, as_of DESC, seq DESC
ON CONFLICT (record_id, month) DO UPDATE
   SET status = EXCLUDED.status, as_of = EXCLUDED.as_of,
       furnished_seq = EXCLUDED.furnished_seq
 WHERE (EXCLUDED.as_of, EXCLUDED.furnished_seq)
     > ({MONTH}.as_of, {MONTH}.furnished_seq)
   AND (EXCLUDED.as_of, EXCLUDED.status)
       IS DISTINCT FROM ({MONTH}.as_of, {MONTH}.status)
"""

# Deletes, by key: remove the record when the delete is the later report; in every
# case erase the months it follows in furnishing order and keep a tombstone, so the
# outcome does not depend on whether the delete came before or after other reports.
_DELETE_RECORDS = f"""
WITH deletes AS (
  SELECT DISTINCT ON (subject_id, account_no) subject_id, account_no, as_of, seq
    FROM ingest_classified
   WHERE action = 'delete' AND subject_id IS NOT NULL
   ORDER BY subject_id, account_no, as_of DESC, seq DESC
), affected AS (
  SELECT r.id, r.subject_id, d.as_of, d.seq,
         (r.as_of, r.furnished_seq) < (d.as_of, d.seq) AS doomed
    FROM deletes d JOIN {RECORD} r
      ON r.member_id = %(member_id)s AND r.subject_id = d.subject_id
     AND r.account_no = d.account_no
), forgotten AS (
  -- all months of a record that goes; the earlier ones of one that stays
  DELETE FROM {MONTH} m
   USING affected a
   WHERE m.record_id = a.id
     AND (a.doomed OR (m.as_of, m.furnished_seq) < (a.as_of, a.seq))
), gone AS (
  DELETE FROM {RECORD} r USING affected a
   WHERE r.id = a.id AND a.doomed
  RETURNING r.subject_id
), touched AS (
  INSERT INTO {BATCH_SUBJECT} (batch_id, subject_id)
  SELECT DISTINCT %(batch_id)s, subject_id FROM gone
  ON CONFLICT (batch_id, subject_id) DO NOTHING
), tombstones AS (
  INSERT INTO {TOMBSTONE}
         (member_id, subject_id, account_no, as_of, furnished_seq)
  SELECT %(member_id)s, subject_id, account_no, as_of, seq FROM deletes
  ON CONFLICT (member_id, account_no, subject_id) DO UPDATE
     SET as_of = EXCLUDED.as_of, furnished_seq = EXCLUDED.furnished_seq
   WHERE (EXCLUDED.as_of, EXCLUDED.furnished_seq)
       > ({TOMBSTONE}.as_of, {TOMBSTONE}.furnished_seq)
)
SELECT count(*) FROM gone
"""


ROW_SEQ_BITS = 32


def seq_base(batch_id: int) -> int:
    """The furnishing order of a batch's row 0: row n of the file is this + n."""
    return batch_id << ROW_SEQ_BITS


def seq_after_batch(batch_id: int) -> int:
    """A furnishing order after every row of batch `batch_id` and before the next
    batch's first row (a correction made after that batch)."""
    return seq_base(batch_id + 1) - 1


@dataclass
class ChunkOutcome:
    outcomes: Counter = field(default_factory=Counter)
    deleted: int = 0

    @property
    def reaging(self) -> int:
        return self.outcomes["reaging"]


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_line(row: tuple) -> str:
    """One row in COPY text format (NULL as \\N, specials escaped)."""
    return (
        "\t".join(
            "\\N" if value is None else str(value).translate(_COPY_ESCAPES)
            for value in row
        )
        + "\n"
    )


def stage_rows(lines: list[str]) -> None:
    """(Re)create the session's staging tables and COPY the chunk's lines in."""
    with connection.cursor() as cursor:
        cursor.execute(_CREATE_TEMP_TABLES)
        columns = ", ".join(STAGE_COLUMNS)
        with cursor.cursor.copy(f"COPY ingest_stage ({columns}) FROM STDIN") as copy:
            copy.write("".join(lines).encode())
        # Temp tables have no statistics until analysed; without them the planner
        # takes 50k staged rows for a hundred. A small sample gives it the size.
        cursor.execute("SET LOCAL default_statistics_target = 10")
        cursor.execute("ANALYZE ingest_stage")


def merge_staged(
    *, batch_id: int, member_id: int, key_version: int, write: bool
) -> ChunkOutcome:
    """Classify the staged chunk and, when `write`, apply it. Runs in the caller's
    transaction: the chunk commits (or not) as a whole."""
    params = {
        "batch_id": batch_id,
        "member_id": member_id,
        "key_version": key_version,
        "seq_base": seq_base(batch_id),
    }
    result = ChunkOutcome()
    with connection.cursor() as cursor:
        if write:
            cursor.execute(_UPSERT_SUBJECTS, params)
        cursor.execute(_CLASSIFY, params)
        cursor.execute("ANALYZE ingest_classified")
        cursor.execute(
            "SELECT action, outcome, count(*) FROM ingest_classified GROUP BY 1, 2"
        )
        by_action: Counter = Counter()
        for action, outcome, count in cursor.fetchall():
            result.outcomes[outcome] += count
            by_action[action] += count
        # Each statement runs only when the chunk needs it: a plan for "no
        # deletes" can still scan a large table.
        if result.reaging:
            cursor.execute(_REAGING_ERRORS, params)
        if not write:
            return result
        if by_action["upsert"]:
            cursor.execute(_APPLY_UPSERTS, params)
        if by_action["delete"]:
            cursor.execute(_DELETE_RECORDS, params)
            result.deleted = cursor.fetchone()[0]
    return result


class PlannerStatistics:
    """Keeps the planner's idea of the merge tables' sizes current while a batch
    grows them. Autovacuum analyses a table only after its next nap, long after a
    large first load has outgrown the stored estimate; a planner that still takes
    records_record for a few thousand rows hashes the whole table for every chunk
    (measured: merge time growing with the table, 0.4 s a chunk at 750k records).
    ANALYZE runs between chunks, outside their transactions (it must not hold its
    lock while a chunk merges), each time the batch has doubled what was known."""

    TABLES = (SUBJECT, RECORD)
    MIN_ROWS = 50_000

    def __init__(self) -> None:
        self.added = 0
        self.known = self._estimate()

    @staticmethod
    def _estimate() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT greatest(coalesce(max(reltuples), 0), 0)::bigint"
                " FROM pg_class WHERE relname = %s",
                [RECORD],
            )
            return cursor.fetchone()[0]

    def note_created(self, rows: int) -> None:
        """Count records created; ANALYZE when they outgrow the estimate."""
        self.added += rows
        if self.added < max(self.MIN_ROWS, self.known):
            return
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(self.TABLES)}")
        self.added = 0
        self.known = self._estimate()
