"""Domain events: a lower layer says what happened, a higher layer reacts.

Layers depend downwards only (docs/architecture.md): records may not call reports,
yet a refreshed profile must reach the watches and a finished batch the webhooks.
So records announces an event and reports, which may import records, subscribes
to it in its `AppConfig.ready()`. Records never learns who listens.

A `DomainEvent` is a Django `Signal` that names its payload, as Sentry's
`BetterSignal` does: a sender that forgets or misspells an argument fails at once
instead of a receiver quietly reading `None`. It is sent one of two ways:

- `send(...)`: now, inside the sender's transaction. A receiver's exception
  propagates (never `send_robust`) and rolls the sender's work back with its own,
  for reactions that must hold together with the write (watches compared while
  the refreshed profile rows are still locked).
- `send_on_commit(...)`: once the transaction commits, as NetBox's
  `enqueue_event` and Zulip's `send_event_on_commit` do, for reactions that must
  only see committed data and must not happen for a rolled-back write (a task
  queued for a worker).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import Signal


class DomainEvent(Signal):
    """A signal with a declared payload: `send` takes exactly these keywords."""

    def __init__(self, name: str, *, payload: tuple[str, ...]) -> None:
        super().__init__()
        self.name = name
        self.payload = frozenset(payload)

    def __repr__(self) -> str:
        return f"<DomainEvent {self.name}({', '.join(sorted(self.payload))})>"

    def _check(self, given: dict[str, Any]) -> None:
        missing = self.payload - given.keys()
        unknown = given.keys() - self.payload
        if missing or unknown:
            raise TypeError(
                f"{self.name}: payload is {sorted(self.payload)}; "
                f"missing {sorted(missing)}, unknown {sorted(unknown)}"
            )

    def send(self, sender: Any, **payload: Any) -> list[tuple[Any, Any]]:
        """Call every receiver now; the first exception propagates."""
        self._check(payload)
        return super().send(sender, **payload)

    def send_robust(self, sender: Any, **named: Any):
        # A swallowed exception would break the guarantee `send` gives.
        raise TypeError(f"{self.name}: domain events are sent with send()")

    def send_on_commit(self, sender: Any, **payload: Any) -> None:
        """Call every receiver once the current transaction commits (at once when
        none is open); nothing happens when it rolls back."""
        self._check(payload)
        transaction.on_commit(lambda: self.send(sender, **payload))
