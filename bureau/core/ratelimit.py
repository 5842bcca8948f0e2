"""Fixed-window rate limits counted in Redis (the Django cache), shared by every
web process: `rate_limit_hit(key, "120/minute")` raises RateLimited past the limit.
`rate_limit_count` counts and reads some cache entries in the same round trip,
and leaves raising to the caller, for a path that checks something else first."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.core.cache import cache
from django.utils.translation import gettext

from bureau.core.errors import RateLimited

if TYPE_CHECKING:
    from bureau.core.cache import BureauRedisCache

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip().rstrip("s")]


@dataclass(frozen=True, slots=True)
class RateCount:
    rate: str
    count: int
    limit: int
    period: int

    def check(self) -> None:
        """Raise RateLimited (with the seconds left in the window) past the limit."""
        if self.count > self.limit:
            retry_after = self.period - (time.time() % self.period)
            raise RateLimited(
                retry_after,
                gettext("Rate limit of %(rate)s exceeded; retry later.")
                % {"rate": self.rate},
            )


def rate_limit_count(
    key: str, rate: str, *, read: Sequence[str] = ()
) -> tuple[RateCount, list[Any]]:
    """Count one hit on `key` in its current window, and read the cache entries
    `read` (None where missing), in one Redis round trip."""
    limit, period = parse_rate(rate)
    window = int(time.time() // period)
    # settings.CACHES names BureauRedisCache, which adds count_and_get.
    redis_cache = cast("BureauRedisCache", cache)
    count, values = redis_cache.count_and_get(
        f"ratelimit:{key}:{window}", period + 1, read
    )
    return RateCount(rate=rate, count=count, limit=limit, period=period), values


def rate_limit_hit(key: str, rate: str) -> None:
    rate_limit_count(key, rate)[0].check()
