"""Fixed-window rate limits counted in Redis (the Django cache), shared by every
web process: `rate_limit_hit(key, "120/minute")` raises RateLimited past the limit."""

from __future__ import annotations

import time

from django.core.cache import cache
from redis.commands.core import Script

from bureau.core.errors import RateLimited

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}

# Count, and give a new window's counter its expiry, in one atomic round trip
# (EVALSHA; redis-py loads the script again if the server has forgotten it).
_COUNT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
_count_script: Script | None = None


def parse_rate(rate: str) -> tuple[int, int]:
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip().rstrip("s")]


def _count(client, key: str, expiry: int) -> int:
    global _count_script
    if _count_script is None:
        _count_script = client.register_script(_COUNT)
    return _count_script(keys=[key], args=[expiry], client=client)


def rate_limit_hit(key: str, rate: str) -> None:
    limit, period = parse_rate(rate)
    window = int(time.time() // period)
    cache_key = cache.make_and_validate_key(f"ratelimit:{key}:{window}")
    client = cache._cache.get_client(cache_key, write=True)
    count = _count(client, cache_key, period + 1)
    if count > limit:
        retry_after = period - (time.time() % period)
        raise RateLimited(retry_after, f"Rate limit of {rate} exceeded; retry later.")
