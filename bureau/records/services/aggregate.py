"""Cross-platform profiles: one set-based statement per chunk of subjects.

The same statement serves the incremental path (a list of subject ids) and the full
rebuild (every subject), so the two cannot drift apart; a property test checks
they agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db import connection, transaction

from bureau.records.events import profiles_refreshed
from bureau.records.models import Profile

STATUS_ORDER = ["closed", "settled", "current", "overdue", "default", "written_off"]
CLASSIFICATION_ORDER = ["normal", "special_mention", "substandard", "doubtful", "loss"]
BLACKLIST_CLAUSES = ("status", "days_overdue", "platforms_overdue")

_INCREMENTAL_TARGET = "SELECT DISTINCT unnest(%(ids)s::bigint[]) AS subject_id"
_FULL_TARGET = "SELECT id AS subject_id FROM records_subject"


def _rank(column: str, order: list[str]) -> str:
    cases = " ".join(f"WHEN '{name}' THEN {i}" for i, name in enumerate(order))
    return f"CASE {column} {cases} ELSE 0 END"


def _names(order: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{name}'" for name in order) + "]"


# Guarantor rows are contingent: counted apart, outside the debt figures and the
# blacklist. Suppressed (disputed past deadline) records are left out entirely.
_FIGURES = f"""
WITH target AS ({{target}}),
rec AS (
  SELECT r.subject_id, r.member_id, r.principal, r.balance, r.amount_overdue,
         r.days_overdue, r.status, r.first_delinquency_on, r.as_of,
         r.role <> 'guarantor' AS is_debt,
         (r.days_overdue > 0 OR r.status IN ('overdue', 'default', 'written_off'))
           AS is_overdue,
         {_rank("r.status", STATUS_ORDER)} AS status_rank,
         {_rank("r.classification", CLASSIFICATION_ORDER)} AS class_rank
    FROM records_record r JOIN target t ON t.subject_id = r.subject_id
   WHERE NOT r.suppressed
),
agg AS (
  SELECT subject_id,
         count(DISTINCT member_id) FILTER (WHERE is_debt) AS platforms_total,
         count(DISTINCT member_id) FILTER (WHERE is_debt AND is_overdue)
           AS platforms_with_overdue,
         count(*) FILTER (WHERE is_debt) AS accounts_total,
         count(*) FILTER (WHERE is_debt AND is_overdue) AS accounts_overdue,
         count(*) FILTER (WHERE NOT is_debt) AS guarantees_total,
         count(*) FILTER (WHERE NOT is_debt AND is_overdue) AS guarantees_overdue,
         coalesce(sum(principal) FILTER (WHERE is_debt), 0) AS total_principal,
         coalesce(sum(balance) FILTER (WHERE is_debt), 0) AS total_balance,
         coalesce(sum(amount_overdue) FILTER (WHERE is_debt), 0)
           AS total_amount_overdue,
         coalesce(max(days_overdue) FILTER (WHERE is_debt), 0) AS max_days_overdue,
         max(status_rank) FILTER (WHERE is_debt) AS status_rank,
         max(class_rank) FILTER (WHERE is_debt) AS class_rank,
         min(first_delinquency_on) FILTER (WHERE is_debt) AS first_delinquency_on,
         max(as_of) AS last_reported_on,
         coalesce(bool_or(is_debt AND status = ANY(%(bl_statuses)s)), false)
           AS bl_status
    FROM rec GROUP BY subject_id
),
judged AS (
  SELECT agg.*,
         max_days_overdue >= %(bl_days)s AS bl_days,
         platforms_with_overdue >= %(bl_platforms)s AS bl_platforms
    FROM agg
)
"""

# The columns of a profile row after its subject_id, in `_ROWS` order.
PROFILE_COLUMNS = (
    "platforms_total",
    "platforms_with_overdue",
    "accounts_total",
    "accounts_overdue",
    "guarantees_total",
    "guarantees_overdue",
    "total_principal",
    "total_balance",
    "total_amount_overdue",
    "max_days_overdue",
    "worst_status",
    "worst_classification",
    "first_delinquency_on",
    "last_reported_on",
    "blacklisted",
    "blacklist_reasons",
    "updated_at",
)

# The profile row of each subject `_FIGURES` judged (updated_at: now()).
_ROWS = f"""
SELECT subject_id, platforms_total, platforms_with_overdue, accounts_total,
       accounts_overdue, guarantees_total, guarantees_overdue, total_principal,
       total_balance, total_amount_overdue, max_days_overdue,
       coalesce(({_names(STATUS_ORDER)})[status_rank + 1], ''),
       coalesce(({_names(CLASSIFICATION_ORDER)})[class_rank + 1], ''),
       first_delinquency_on, last_reported_on,
       bl_status OR bl_days OR bl_platforms,
       array_remove(ARRAY[
         CASE WHEN bl_status THEN 'status' END,
         CASE WHEN bl_days THEN 'days_overdue' END,
         CASE WHEN bl_platforms THEN 'platforms_overdue' END], NULL)::varchar[],
       now()
  FROM judged
"""

_AGGREGATE = (
    _FIGURES
    + """,
gone AS (
  DELETE FROM records_profile p USING target t
   WHERE p.subject_id = t.subject_id
     AND NOT EXISTS (SELECT 1 FROM agg WHERE agg.subject_id = t.subject_id)
)
INSERT INTO records_profile (subject_id, """
    + ", ".join(PROFILE_COLUMNS)
    + ")"
    + _ROWS
    + """
ON CONFLICT (subject_id) DO UPDATE SET
    platforms_total = EXCLUDED.platforms_total,
    platforms_with_overdue = EXCLUDED.platforms_with_overdue,
    accounts_total = EXCLUDED.accounts_total,
    accounts_overdue = EXCLUDED.accounts_overdue,
    guarantees_total = EXCLUDED.guarantees_total,
    guarantees_overdue = EXCLUDED.guarantees_overdue,
    total_principal = EXCLUDED.total_principal,
    total_balance = EXCLUDED.total_balance,
    total_amount_overdue = EXCLUDED.total_amount_overdue,
    max_days_overdue = EXCLUDED.max_days_overdue,
    worst_status = EXCLUDED.worst_status,
    worst_classification = EXCLUDED.worst_classification,
    first_delinquency_on = EXCLUDED.first_delinquency_on,
    last_reported_on = EXCLUDED.last_reported_on,
    blacklisted = EXCLUDED.blacklisted,
    blacklist_reasons = EXCLUDED.blacklist_reasons,
    updated_at = EXCLUDED.updated_at
"""
)

# The same rows, computed and not stored: what a read shows for a subject whose
# records aggregation has not reached yet (bureau.records.selectors.profile_of).
PROFILES_COMPUTE_SQL = (_FIGURES + _ROWS).format(target=_INCREMENTAL_TARGET)


def profiles_params(ids: list[int] | None = None) -> dict:
    rule = settings.BUREAU_BLACKLIST
    return {
        "ids": ids or [],
        "bl_statuses": list(rule["statuses"]),
        "bl_days": rule["min_days_overdue"],
        "bl_platforms": rule["min_platforms_overdue"],
    }


def profiles_refresh(*, subject_ids: Iterable[int]) -> int:
    """Recompute the profiles of these subjects (at most a chunk) in one statement."""
    ids = sorted(set(subject_ids))
    if not ids:
        return 0
    if len(ids) > settings.BUREAU_AGGREGATE_CHUNK:
        raise ValueError(f"at most {settings.BUREAU_AGGREGATE_CHUNK} subjects a call")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _AGGREGATE.format(target=_INCREMENTAL_TARGET), profiles_params(ids)
        )
    return len(ids)


def profiles_rebuild() -> None:
    """Recompute every profile in one statement (manage.py rebuild_profiles)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_AGGREGATE.format(target=_FULL_TARGET), profiles_params())


def subject_chunks(ids: Iterable[int], size: int | None = None) -> Iterator[list[int]]:
    size = size or settings.BUREAU_AGGREGATE_CHUNK
    chunk: list[int] = []
    for subject_id in ids:
        chunk.append(subject_id)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def profiles_refresh_and_alert(subject_ids: Iterable[int]) -> int:
    """Recompute these subjects' profiles in chunks of ≤ 5,000 and announce each
    chunk (`profiles_refreshed`, which alerts the members watching them): what
    every change of records ends with (ingest, disputes, retention). Each chunk is
    one transaction and the event is sent inside it, so the refreshed profile rows
    stay locked while the watches are compared: two chunks touching the same
    person alert in order, once."""
    refreshed = 0
    for chunk in subject_chunks(sorted(set(subject_ids))):
        with transaction.atomic():
            refreshed += profiles_refresh(subject_ids=chunk)
            profiles_refreshed.send(Profile, subject_ids=chunk)
    return refreshed
