"""Fixed-window rate limits counted in Redis (the Django cache), shared by every
web process: `rate_limit_hit(key, "120/minute")` raises RateLimited past the limit."""

from __future__ import annotations

import time

from django.core.cache import cache

from bureau.core.errors import RateLimited

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip().rstrip("s")]


def rate_limit_hit(key: str, rate: str) -> None:
    limit, period = parse_rate(rate)
    window = int(time.time() // period)
    cache_key = cache.make_and_validate_key(f"ratelimit:{key}:{window}")
    client = cache._cache.get_client(cache_key, write=True)
    # One round trip: create the counter with its expiry if new, then count.
    pipe = client.pipeline(transaction=False)
    pipe.set(cache_key, 0, ex=period + 1, nx=True)
    pipe.incr(cache_key)
    count = pipe.execute()[1]
    if count > limit:
        retry_after = period - (time.time() % period)
        raise RateLimited(retry_after, f"Rate limit of {rate} exceeded; retry later.")
