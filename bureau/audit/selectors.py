"""Reading the audit trail: verifying the chain against its signed checkpoints;
the events and misuse alerts the API lists."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bureau.audit.chain import (
    GENESIS_HASH,
    LEGACY_KEY_VERSION,
    chain_hash,
    keyed_chain_hash,
)
from bureau.audit.checkpoints import Checkpoint, InvalidCheckpoint, checkpoints_read
from bureau.audit.keys import ChainKeys, chain_keys
from bureau.audit.models import Alert, AuditEvent

# What audit_verify can find, most serious first. The codes are stable (scripts
# may match them); the messages are translated.
TRUNCATED = "truncated"
TAIL_DELETED = "tail_deleted"
GAP = "gap"
REWRITTEN = "rewritten"
UNKNOWN_KEY = "unknown_key"
CHECKPOINT_INVALID = "checkpoint_invalid"
_ORDER = (TRUNCATED, TAIL_DELETED, GAP, REWRITTEN, UNKNOWN_KEY, CHECKPOINT_INVALID)
_SHOWN_PER_CODE = 5


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    sequence: int | None = None  # the first event concerned, where there is one


@dataclass(frozen=True)
class ChainReport:
    events_checked: int  # events read by this walk
    head_sequence: int
    head_hash: str
    event_count: int  # events up to the head (from `since`'s count when given)
    findings: tuple[Finding, ...] = ()
    checkpoints_checked: int = 0
    latest_checkpoint: Checkpoint | None = None
    events_by_key_version: dict[int, int] = field(default_factory=dict)

    @property
    def intact(self) -> bool:
        return not self.findings

    @property
    def first_broken_sequence(self) -> int | None:
        sequences = [f.sequence for f in self.findings if f.sequence is not None]
        return min(sequences, default=None)

    @property
    def reason(self) -> str:
        return self.findings[0].message if self.findings else ""

    @property
    def codes(self) -> set[str]:
        return {finding.code for finding in self.findings}


class _Ranges:
    """Sequences, kept as runs (3–7, 12) for the message."""

    def __init__(self) -> None:
        self.runs: list[list[int]] = []
        self.total = 0

    def add(self, first: int, last: int | None = None) -> None:
        last = first if last is None else last
        self.total += last - first + 1
        if self.runs and self.runs[-1][1] == first - 1:
            self.runs[-1][1] = last
        else:
            self.runs.append([first, last])

    def __bool__(self) -> bool:
        return bool(self.runs)

    @property
    def first(self) -> int:
        return self.runs[0][0]

    def text(self) -> str:
        shown = [f"{a}" if a == b else f"{a}–{b}" for a, b in self.runs[:10]]
        more = "…" if len(self.runs) > 10 else ""
        return ", ".join(shown) + more


class _Walk:
    """One pass over the events in sequence order, with the checkpoints."""

    def __init__(self, keys: ChainKeys, checkpoints: list[Checkpoint], since):
        self.keys = keys
        start = since.sequence if since else 1
        self.pending = deque(c for c in checkpoints if c.sequence >= start)
        self.checkpoints_checked = 0
        self.expected_sequence = start
        self.expected_prev = None if since else GENESIS_HASH
        self.count = since.event_count - 1 if since else 0
        self.read = 0
        self.head = (0, GENESIS_HASH)
        self.keyed_seen = False
        self.versions: Counter[int] = Counter()
        self.missing, self.unlinked = _Ranges(), _Ranges()
        self.mismatched, self.downgraded = _Ranges(), _Ranges()
        self.unknown: dict[int, _Ranges] = {}
        self.findings: list[Finding] = []

    def event(self, row: Mapping[str, Any]) -> None:
        sequence = row["sequence"]
        self.read += 1
        self.count += 1
        if sequence > self.expected_sequence:
            self.missing.add(self.expected_sequence, sequence - 1)
        elif self.expected_prev is not None and row["prev_hash"] != self.expected_prev:
            self.unlinked.add(sequence)
        self._check_hash(row)
        self._check_checkpoints(sequence, row["hash"])
        self.expected_sequence = sequence + 1
        self.expected_prev = row["hash"]
        self.head = (sequence, row["hash"])

    def _check_hash(self, row: Mapping[str, Any]) -> None:
        sequence, version = row["sequence"], row["chain_key_version"]
        self.versions[version] += 1
        if version == LEGACY_KEY_VERSION:
            # Legacy events come before the first keyed one, never after it.
            if self.keyed_seen:
                self.downgraded.add(sequence)
            elif chain_hash(row["prev_hash"], row) != row["hash"]:
                self.mismatched.add(sequence)
            return
        self.keyed_seen = True
        key = self.keys.key(version)
        if key is None:
            self.unknown.setdefault(version, _Ranges()).add(sequence)
        elif keyed_chain_hash(key, row["prev_hash"], row) != row["hash"]:
            self.mismatched.add(sequence)

    def _check_checkpoints(self, sequence: int, event_hash: str) -> None:
        while self.pending and self.pending[0].sequence <= sequence:
            checkpoint = self.pending.popleft()
            self.checkpoints_checked += 1
            names = {
                "checkpoint": checkpoint.name,
                "time": checkpoint.created_at,
                "sequence": checkpoint.sequence,
            }
            if checkpoint.sequence < sequence:
                self.add(
                    GAP,
                    checkpoint.sequence,
                    _(
                        "event %(sequence)s, recorded by checkpoint %(checkpoint)s "
                        "(%(time)s), is gone"
                    )
                    % names,
                )
            elif checkpoint.head_hash != event_hash:
                self.add(
                    REWRITTEN,
                    sequence,
                    _(
                        "event %(sequence)s differs from checkpoint %(checkpoint)s "
                        "(%(time)s): it was rewritten after that checkpoint"
                    )
                    % names,
                )
            elif checkpoint.event_count != self.count:
                self.add(
                    GAP,
                    sequence,
                    ngettext(
                        "checkpoint %(checkpoint)s (%(time)s) counted %(expected)s "
                        "event up to sequence %(sequence)s; the trail now holds "
                        "%(found)s",
                        "checkpoint %(checkpoint)s (%(time)s) counted %(expected)s "
                        "events up to sequence %(sequence)s; the trail now holds "
                        "%(found)s",
                        checkpoint.event_count,
                    )
                    % {
                        **names,
                        "expected": checkpoint.event_count,
                        "found": self.count,
                    },
                )

    def add(self, code: str, sequence: int | None, message: str) -> None:
        self.findings.append(Finding(code, message, sequence))

    def finish(self) -> None:
        """The checkpoints beyond the last event read: events are gone."""
        self.checkpoints_checked += len(self.pending)
        if self.pending:
            latest = self.pending[-1]
            head = self.head[0]
            if not self.read:
                head = AuditEvent.objects.aggregate(head=Max("sequence"))["head"] or 0
            names = {
                "checkpoint": latest.name,
                "time": latest.created_at,
                "sequence": latest.sequence,
                "count": latest.event_count,
                "head": head,
            }
            if not head:
                self.add(
                    TRUNCATED,
                    1,
                    ngettext(
                        "the audit table holds no events, but checkpoint "
                        "%(checkpoint)s (%(time)s) recorded %(count)s event up to "
                        "sequence %(sequence)s",
                        "the audit table holds no events, but checkpoint "
                        "%(checkpoint)s (%(time)s) recorded %(count)s events up to "
                        "sequence %(sequence)s",
                        latest.event_count,
                    )
                    % names,
                )
            else:
                self.add(
                    TAIL_DELETED,
                    head + 1,
                    ngettext(
                        "events after sequence %(head)s are gone: checkpoint "
                        "%(checkpoint)s (%(time)s) recorded the trail up to sequence "
                        "%(sequence)s (%(count)s event)",
                        "events after sequence %(head)s are gone: checkpoint "
                        "%(checkpoint)s (%(time)s) recorded the trail up to sequence "
                        "%(sequence)s (%(count)s events)",
                        latest.event_count,
                    )
                    % names,
                )
        for ranges, code, message in (
            (
                self.missing,
                GAP,
                lambda n: ngettext(
                    "%(count)s event missing from the sequence, at %(ranges)s",
                    "%(count)s events missing from the sequence, at %(ranges)s",
                    n,
                ),
            ),
            (
                self.unlinked,
                REWRITTEN,
                lambda n: ngettext(
                    "%(count)s event does not link to the event before it, at "
                    "%(ranges)s",
                    "%(count)s events do not link to the event before them, at "
                    "%(ranges)s",
                    n,
                ),
            ),
            (
                self.mismatched,
                REWRITTEN,
                lambda n: ngettext(
                    "%(count)s event does not match its hash (changed after it "
                    "was written, or hashed again without the chain key), at "
                    "%(ranges)s",
                    "%(count)s events do not match their hash (changed after they "
                    "were written, or hashed again without the chain key), at "
                    "%(ranges)s",
                    n,
                ),
            ),
            (
                self.downgraded,
                REWRITTEN,
                lambda n: ngettext(
                    "%(count)s event carries the unkeyed legacy hash after keyed "
                    "events (rewritten without the chain key), at %(ranges)s",
                    "%(count)s events carry the unkeyed legacy hash after keyed "
                    "events (rewritten without the chain key), at %(ranges)s",
                    n,
                ),
            ),
        ):
            if ranges:
                values = {"count": ranges.total, "ranges": ranges.text()}
                self.add(code, ranges.first, message(ranges.total) % values)
        for version, ranges in sorted(self.unknown.items()):
            unknown = ngettext(
                "%(count)s event was linked with chain key version %(version)s, "
                "which is not configured, so it cannot be verified, at %(ranges)s",
                "%(count)s events were linked with chain key version %(version)s, "
                "which is not configured, so they cannot be verified, at "
                "%(ranges)s",
                ranges.total,
            )
            values = {"count": ranges.total, "ranges": ranges.text()}
            self.add(
                UNKNOWN_KEY, ranges.first, unknown % {**values, "version": version}
            )


def _capped(findings: list[Finding]) -> tuple[Finding, ...]:
    """Most serious first; at most a few of each kind, then how many more."""
    kept: list[Finding] = []
    for code in _ORDER:
        of_code = [f for f in findings if f.code == code]
        kept += of_code[:_SHOWN_PER_CODE]
        if len(of_code) > _SHOWN_PER_CODE:
            more = len(of_code) - _SHOWN_PER_CODE
            kept.append(
                Finding(
                    code,
                    ngettext(
                        "… and %(more)s more finding of this kind",
                        "… and %(more)s more findings of this kind",
                        more,
                    )
                    % {"more": more},
                )
            )
    return tuple(kept)


def audit_chain_verify(
    *,
    checkpoints: list[Checkpoint] | None = None,
    invalid: list[InvalidCheckpoint] | None = None,
    since: Checkpoint | None = None,
    keys: ChainKeys | None = None,
    batch_size: int = 5000,
) -> ChainReport:
    """Walk the chain in sequence order, streamed in batches (a server-side
    cursor: memory does not grow with the trail), checking every link with the
    key its event names and every checkpoint against the event it recorded.

    Checkpoints are read from `BUREAU_AUDIT_CHECKPOINT_DIR` unless given; read
    them BEFORE the walk's snapshot, as here, or a checkpoint written meanwhile
    would look like a deleted tail. `since`: a checkpoint already trusted; only
    the events from its sequence on are walked (beat's incremental check)."""
    if checkpoints is None:
        checkpoints, found_invalid = checkpoints_read()
        invalid = found_invalid if invalid is None else invalid
    walk = _Walk(keys or chain_keys(), checkpoints, since)
    for problem in invalid or ():
        walk.add(
            CHECKPOINT_INVALID,
            None,
            _("checkpoint %(checkpoint)s proves nothing: %(problem)s")
            % {"checkpoint": problem.name, "problem": problem.problem},
        )
    rows = AuditEvent.objects.order_by("sequence")
    if since is not None:
        rows = rows.filter(sequence__gte=since.sequence)
    for row in rows.values().iterator(chunk_size=batch_size):
        walk.event(row)
    walk.finish()
    return ChainReport(
        events_checked=walk.read,
        event_count=walk.count,
        head_sequence=walk.head[0],
        head_hash=walk.head[1],
        findings=_capped(walk.findings),
        checkpoints_checked=walk.checkpoints_checked,
        latest_checkpoint=checkpoints[-1] if checkpoints else None,
        events_by_key_version=dict(sorted(walk.versions.items())),
    )


def audit_events() -> QuerySet[AuditEvent]:
    """The whole trail with each event's member (the audit-events endpoint)."""
    return AuditEvent.objects.select_related("member")


def alerts_all() -> QuerySet[Alert]:
    """Every misuse alert with what its listing shows."""
    return Alert.objects.select_related("member", "api_key", "handled_by")
