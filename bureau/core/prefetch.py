"""Run a CPU-bound iterator in a thread while the caller waits on I/O.

Ingest parses and validates the next chunk (pure Python, no database) while the
main thread is inside PostgreSQL merging the previous one; psycopg releases the
GIL while it waits, so both cores work.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetch(items: Iterable[T], *, depth: int = 2) -> Iterator[T]:
    """Yield what `items` yields, produced up to `depth` items ahead in a thread.

    An exception in the producer is re-raised here; closing the generator early
    stops the producer.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, not lost
            put(_Failed(exc))

    worker = threading.Thread(target=produce, name="prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)
