"""Reading the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from bureau.audit.chain import GENESIS_HASH, chain_hash
from bureau.audit.models import AuditEvent


@dataclass(frozen=True)
class ChainReport:
    events_checked: int
    first_broken_sequence: int | None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.first_broken_sequence is None


def audit_chain_verify(*, batch_size: int = 5000) -> ChainReport:
    """Walk the chain in order; report the first row whose links do not hold."""
    expected_prev = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    rows = (
        AuditEvent.objects.order_by("sequence").values().iterator(chunk_size=batch_size)
    )
    for row in rows:
        sequence = row["sequence"]
        if sequence != expected_sequence:
            return ChainReport(checked, expected_sequence, "sequence gap (row missing)")
        if row["prev_hash"] != expected_prev:
            return ChainReport(
                checked, sequence, "prev_hash does not match the row before"
            )
        if chain_hash(row["prev_hash"], row) != row["hash"]:
            return ChainReport(
                checked, sequence, "hash does not match the row's content"
            )
        expected_prev = row["hash"]
        expected_sequence += 1
        checked += 1
    return ChainReport(checked, None)
