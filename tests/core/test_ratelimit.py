"""Fixed-window counters in Redis: counted atomically, expiring with their window."""

import time

import pytest
from django.core.cache import cache

from bureau.core.errors import RateLimited
from bureau.core.ratelimit import rate_limit_count, rate_limit_hit


def _counter(key: str, period: int) -> str:
    window = int(time.time() // period)
    return cache.make_and_validate_key(f"ratelimit:{key}:{window}")


def test_rate_limit_when_over_limit_raises_with_retry_after():
    for _ in range(3):
        rate_limit_hit("test:alice", "3/hour")
    with pytest.raises(RateLimited) as raised:
        rate_limit_hit("test:alice", "3/hour")
    assert 0 < raised.value.retry_after <= 3600


def test_rate_limit_counter_when_created_expires_after_its_window():
    rate_limit_hit("test:bob", "10/minute")
    rate_limit_hit("test:bob", "10/minute")
    name = _counter("test:bob", 60)
    client = cache._cache.get_client(name, write=True)
    assert int(client.get(name)) == 2
    assert 0 < client.ttl(name) <= 61


def test_count_and_get_when_called_counts_and_reads_entries_in_one_call():
    from datetime import UTC, datetime

    moment = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    cache.set("test:when", moment)
    cache.set("test:empty", "")
    count, values = cache.count_and_get(
        "test:counter", 60, ["test:when", "test:missing", "test:empty"]
    )
    assert count == 1
    assert values == [moment, None, ""]
    assert cache.count_and_get("test:counter", 60)[0] == 2


def test_rate_limit_count_when_over_limit_returns_entries_and_check_raises():
    cache.set("test:entry", 7)
    for expected in (1, 2):
        counted, (entry,) = rate_limit_count(
            "test:carol", "1/hour", read=["test:entry"]
        )
        assert (counted.count, entry) == (expected, 7)
    with pytest.raises(RateLimited):
        counted.check()
