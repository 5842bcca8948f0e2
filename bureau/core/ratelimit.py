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
    cache_key = f"ratelimit:{key}:{window}"
    # add() creates the counter with its expiry only once; incr() is atomic in Redis.
    cache.add(cache_key, 0, timeout=period + 1)
    count = cache.incr(cache_key)
    if count > limit:
        retry_after = period - (time.time() % period)
        raise RateLimited(retry_after, f"Rate limit of {rate} exceeded; retry later.")
