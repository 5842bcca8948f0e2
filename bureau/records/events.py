"""What records announces (bureau.core.events): the layers above subscribe in their
`AppConfig.ready()`; records never imports them. Today reports listens to all
three (reports/receivers.py).

profiles_refreshed(subject_ids: list[int])
    Sender: `Profile`, from `profiles_refresh_and_alert` (services/aggregate.py),
    the end of every change of records (ingest's aggregation, disputes,
    retention). Sent INSIDE the chunk's transaction, right after its profiles were
    recomputed, so their rows are still locked: a receiver compares them
    atomically (two chunks touching one person alert in order, once), and a
    receiver's exception rolls the refresh back. `subject_ids` is sorted, unique,
    at most `BUREAU_AGGREGATE_CHUNK` long.

batch_finished(batch_id: int)
    Sender: `Batch`, when a batch reached its final status (completed,
    completed_with_errors, failed; services/ingest.py). Sent ON COMMIT: a
    receiver that queues a task must find the final row, and a rolled-back
    finish announces nothing.

subjects_rehashed(moves: list[tuple[str, str, str]])
    Sender: `Subject`, when stored subjects moved up the identity-key chain
    (identity_keys.py: ingest during a rotation, `rotate_identity_key`). Each move
    is (id_type, old hash, new hash). Sent INSIDE the transaction that moved
    them, so rows keyed by those hashes elsewhere move with the subjects or not at
    all.
"""

from __future__ import annotations

from bureau.core.events import DomainEvent

profiles_refreshed = DomainEvent("profiles_refreshed", payload=("subject_ids",))
batch_finished = DomainEvent("batch_finished", payload=("batch_id",))
subjects_rehashed = DomainEvent("subjects_rehashed", payload=("moves",))
