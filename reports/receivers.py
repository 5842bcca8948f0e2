"""What reports does when records announces something (bureau/records/events.py).

Connected in `ReportsConfig.ready()`. Each receiver is one call into a service or a
task; the event says when it runs (inside the sender's transaction, or on
commit), and a receiver's exception is the sender's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bureau.records import events
from reports.services.inquiries import inquiries_rehash
from reports.services.watches import watches_check
from reports.tasks import notify_batch_completed


def watches_compare(sender: Any, *, subject_ids: list[int], **_: Any) -> None:
    """`profiles_refreshed`, inside the refresh's transaction: compare the live
    watches on these subjects while their profile rows are locked."""
    watches_check(subject_ids=subject_ids)


def batch_completed_notify(sender: Any, *, batch_id: int, **_: Any) -> None:
    """`batch_finished`, on commit: queue batch.completed to the member's webhooks
    (queue notify)."""
    notify_batch_completed.delay(batch_id)


def inquiries_follow(
    sender: Any, *, moves: Sequence[tuple[str, str, str]], **_: Any
) -> None:
    """`subjects_rehashed`, inside the move's transaction: past inquiries keyed by
    the old hashes move with their subjects."""
    inquiries_rehash(moves=moves)


def connect() -> None:
    """Subscribe once (the dispatch uids make a second call a no-op)."""
    events.profiles_refreshed.connect(
        watches_compare, dispatch_uid="reports.watches_compare"
    )
    events.batch_finished.connect(
        batch_completed_notify, dispatch_uid="reports.batch_completed_notify"
    )
    events.subjects_rehashed.connect(
        inquiries_follow, dispatch_uid="reports.inquiries_follow"
    )
