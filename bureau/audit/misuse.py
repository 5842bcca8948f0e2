"""Misuse detection: four set-based rules over inquiries and batches raise Alerts.

Windows are aligned to the hour (the job runs at minute 5 and looks at the hour
that just ended), so a re-run raises nothing new: the unique constraint on
(rule, member, key, window) backs that up, and an alert whose window overlaps an
earlier one of the same rule and member/key is not raised again (the 30-day and
24-hour rules would otherwise repeat every hour). Evidence holds counts, ratios and
hashes only. Thresholds: `settings.BUREAU_MISUSE`.

Sequential numbers: an inquiry keeps only the number's keyed hash and its masked
form (`110105********002X`). For 18-character resident ids and USCCs the mask
still shows the area code and the first three of the last four characters (the
sequence code), so a run of consecutive sequence codes under one area code, steps
of 1 or 2 (one gender only), is visible. For every id type, many distinct hashes
behind the very same masked form (only the hidden middle differs) count too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bureau.audit.misuse_sql import (
    DRIFT_SQL,
    ENUMERATION_SQL,
    IMBALANCE_SQL,
    VOLUME_SQL,
)
from bureau.audit.models import Alert
from bureau.audit.services import audit_record
from bureau.core.actors import ActorLike
from bureau.core.errors import Conflict, NotFound, ValidationFailed
from bureau.core.identity_shapes import mask_free_text

Rule = Alert.Rule
Severity = Alert.Severity

# pg_advisory_xact_lock key: one detection run at a time (overlap check + insert).
_DETECT_LOCK_KEY = 0x0B0EA0A1E
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_MAX_SEQUENCE_STEP = 2  # 001, 003, 005…: a caller who knows the gender skips half


@dataclass(frozen=True)
class Finding:
    rule: str
    member_id: int
    api_key_id: int | None
    severity: str
    window_start: datetime
    window_end: datetime
    evidence: dict[str, Any]

    def overlaps(self, alert: Alert) -> bool:
        return (
            alert.rule == self.rule
            and alert.member_id == self.member_id
            and alert.api_key_id == self.api_key_id
            and alert.window_start < self.window_end
            and alert.window_end > self.window_start
        )


def _fetch(sql: str, params: dict[str, Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _band(excess: float, *, medium: float = 1.5, high: float = 3.0) -> str:
    """Severity from how many times over its threshold a value is."""
    if excess >= high:
        return Severity.HIGH
    return Severity.MEDIUM if excess >= medium else Severity.LOW


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def _nonzero(counts_json: str) -> dict[str, int]:
    return {key: n for key, n in json.loads(counts_json).items() if n}


def _volume_spikes(end: datetime, cfg: dict[str, Any]) -> Iterable[Finding]:
    start = end - _HOUR
    base_days = cfg["baseline_days"]
    rows = _fetch(
        VOLUME_SQL,
        {
            "start": start,
            "end": end,
            "base_start": start - timedelta(days=base_days),
            "volume_min": cfg["volume_min"],
            "factor": cfg["volume_factor"],
        },
    )
    for member_id, count, active_hours, median in rows:
        threshold = max(cfg["volume_factor"] * median, cfg["volume_min"])
        yield Finding(
            Rule.VOLUME_SPIKE,
            member_id,
            None,
            _band(count / threshold),
            start,
            end,
            {
                "queries_last_hour": count,
                # Median over the hours with any query: idle nights would make
                # the median of a business-hours member 0.
                "median_hourly_queries": round(float(median), 2),
                "baseline_active_hours": active_hours,
                "baseline_days": base_days,
                "volume_factor": cfg["volume_factor"],
                "volume_min": cfg["volume_min"],
            },
        )


def _enumerations(end: datetime, cfg: dict[str, Any]) -> Iterable[Finding]:
    start = end - _HOUR
    rows = _fetch(
        ENUMERATION_SQL,
        {
            "start": start,
            "end": end,
            "day_start": end - _DAY,
            "max_step": _MAX_SEQUENCE_STEP,
            "names_per_number": cfg["names_per_number"],
            "enum_min_queries": cfg["enum_min_queries"],
            "miss_ratio": cfg["enum_miss_ratio"],
            "sequential_min": cfg["sequential_min"],
        },
    )
    for member_id, queries, misses, same_mask, run, numbers, names, hashes in rows:
        signals = []
        if queries >= cfg["enum_min_queries"] and misses > cfg["enum_miss_ratio"] * (
            queries
        ):
            signals.append("miss_ratio")
        if max(same_mask, run) >= cfg["sequential_min"]:
            signals.append("sequential_numbers")
        if numbers:
            signals.append("names_per_number")
        yield Finding(
            Rule.ENUMERATION,
            member_id,
            None,
            Severity.HIGH if signals != ["miss_ratio"] else Severity.MEDIUM,
            start,
            end,
            {
                "signals": signals,
                "queries": queries,
                "misses": misses,
                "miss_ratio": _ratio(misses, queries),
                "numbers_behind_one_mask": same_mask,
                "longest_sequential_run": run,
                "numbers_with_many_names": numbers,
                "max_names_per_number": names,
                "names_window_hours": 24,
                "id_hashes": list(hashes),
            },
        )


def _imbalances(end: datetime, cfg: dict[str, Any]) -> Iterable[Finding]:
    start = end - timedelta(days=cfg["baseline_days"])
    rows = _fetch(
        IMBALANCE_SQL,
        {
            "start": start,
            "end": end,
            "min_queries": cfg["imbalance_min_queries"],
            "ratio": cfg["imbalance_ratio"],
        },
    )
    for member_id, queries, rows_accepted, batches in rows:
        threshold = cfg["imbalance_ratio"] * rows_accepted
        yield Finding(
            Rule.CONTRIBUTION_IMBALANCE,
            member_id,
            None,
            _band(queries / threshold if threshold else math.inf),
            start,
            end,
            {
                "queries": queries,
                "rows_accepted": rows_accepted,
                "batches": batches,
                "queries_per_row": _ratio(queries, rows_accepted),
                "imbalance_ratio": cfg["imbalance_ratio"],
                "days": cfg["baseline_days"],
            },
        )


def _purpose_drifts(end: datetime, cfg: dict[str, Any]) -> Iterable[Finding]:
    recent_start = end - _DAY
    rows = _fetch(
        DRIFT_SQL,
        {
            "recent_start": recent_start,
            "base_start": recent_start - timedelta(days=cfg["baseline_days"]),
            "end": end,
            "min_queries": cfg["drift_min_queries"],
            "tvd": cfg["drift_tvd"],
        },
    )
    for key_id, member_id, recent, base, tvd, recent_by, base_by in rows:
        # How far into the room left above the threshold the distance went.
        excess = (tvd - cfg["drift_tvd"]) / max(1.0 - cfg["drift_tvd"], 1e-9)
        yield Finding(
            Rule.PURPOSE_DRIFT,
            member_id,
            key_id,
            _band(excess, medium=0.4, high=0.8),
            recent_start,
            end,
            {
                "total_variation_distance": round(tvd, 4),
                "queries_last_24h": recent,
                "queries_baseline": base,
                "baseline_days": cfg["baseline_days"],
                "purposes_last_24h": _nonzero(recent_by),
                "purposes_baseline": _nonzero(base_by),
                "drift_tvd": cfg["drift_tvd"],
            },
        )


RULES = (_volume_spikes, _enumerations, _imbalances, _purpose_drifts)


def misuse_findings(*, now: datetime | None = None) -> list[Finding]:
    """What the four rules see in the hour that ended last (reads only)."""
    now = now or timezone.now()
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    cfg = settings.BUREAU_MISUSE
    return [finding for rule in RULES for finding in rule(end, cfg)]


def misuse_detect(*, now: datetime | None = None, dry_run: bool = False) -> list[Alert]:
    """Raise an Alert for each new finding; a re-run raises nothing twice.

    With `dry_run` nothing is written and the alerts returned are unsaved.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_DETECT_LOCK_KEY])
        findings = misuse_findings(now=now)
        if not findings:
            return []
        earlier = list(
            Alert.objects.filter(
                rule__in={f.rule for f in findings},
                window_end__gt=min(f.window_start for f in findings),
            )
        )
        alerts = [
            Alert(
                rule=f.rule,
                member_id=f.member_id,
                api_key_id=f.api_key_id,
                severity=f.severity,
                evidence=f.evidence,
                window_start=f.window_start,
                window_end=f.window_end,
            )
            for f in findings
            if not any(f.overlaps(alert) for alert in earlier)
        ]
        if dry_run:
            return alerts
        Alert.objects.bulk_create(alerts)
        for alert in alerts:
            audit_record(
                actor="job:detect_misuse",
                action="alert.raise",
                obj=alert,
                member=alert.member_id,
                details={
                    "rule": alert.rule,
                    "severity": alert.severity,
                    "api_key": alert.api_key_id,
                    "window": [
                        alert.window_start.isoformat(),
                        alert.window_end.isoformat(),
                    ],
                    "evidence": alert.evidence,
                },
            )
    return alerts


# Who may move an alert where: dismissed is final.
_FROM_STATUSES: dict[str, list[str]] = {
    Alert.Status.ACKNOWLEDGED: [Alert.Status.OPEN],
    Alert.Status.DISMISSED: [Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED],
}


def alert_update(
    *, alert_id: int, actor: ActorLike, status: str, note: str = ""
) -> Alert:
    """Acknowledge or dismiss an alert (one conditional UPDATE), audited. The
    note is free text: an identity number or phone in it is masked, as in dispute
    claims and statements, not refused."""
    if status not in _FROM_STATUSES:
        raise ValidationFailed(
            errors={"status": [_("Must be acknowledged or dismissed.")]}
        )
    changes: dict[str, Any] = {
        "status": status,
        "handled_by": actor,
        "handled_at": timezone.now(),
    }
    note = mask_free_text(note)
    if note:
        changes["note"] = note
    with transaction.atomic():
        updated = Alert.objects.filter(
            pk=alert_id, status__in=_FROM_STATUSES[status]
        ).update(**changes)
        alert = Alert.objects.filter(pk=alert_id).first()
        if alert is None:
            raise NotFound(_("No such alert."))
        if not updated:
            raise Conflict(
                _("The alert is %(current)s; it cannot become %(status)s.")
                % {"current": alert.status, "status": status}
            )
        audit_record(
            actor=actor,
            action="alert.update",
            obj=alert,
            member=alert.member_id,
            details={"rule": alert.rule, "status": status, "note": note},
        )
    return alert


def alert_read(
    *,
    actor: ActorLike,
    alert: Alert | None = None,
    filters: dict[str, str] | None = None,
) -> None:
    """Record that alerts were read (`alert.read`): one alert, or a listing under
    `filters` (identity-like values blanked by the caller)."""
    details = {} if filters is None else {"filters": filters}
    audit_record(actor=actor, action="alert.read", obj=alert, details=details)
