"""Fixed-window counters in Redis: counted atomically, expiring with their window."""

import time

import pytest
from django.core.cache import cache

from bureau.core.errors import RateLimited
from bureau.core.ratelimit import rate_limit_hit


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
