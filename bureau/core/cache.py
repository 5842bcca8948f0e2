"""Django's Redis cache, keeping one client per connection pool, plus the one
compound call the query path needs (`count_and_get`).

The stock client builds a new `redis.Redis` (and its ~170 response callbacks) on
every cache call — about a tenth of a millisecond each, several times a request
on the query path. redis-py clients are thread-safe over a pool, so one per pool
serves every thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

# Count in a window (the counter's expiry set when the window's first hit makes
# it), and read some cache entries, in one atomic round trip (EVALSHA; redis-py
# loads the script again if the server has forgotten it). A missing entry comes
# back as nil.
_COUNT_AND_GET = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local out = {count}
for i = 2, #KEYS do out[i] = redis.call('GET', KEYS[i]) end
return out
"""


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}
        self._count_and_get = None

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)
            client = self._clients[index] = self._client(connection_pool=pool)
        return client

    def count_and_get(
        self, counter: str, expiry: int, keys: Sequence[str]
    ) -> tuple[int, list[Any]]:
        client = self.get_client(counter, write=True)
        if self._count_and_get is None:
            self._count_and_get = client.register_script(_COUNT_AND_GET)
        reply = self._count_and_get(keys=[counter, *keys], args=[expiry], client=client)
        loads = self._serializer.loads
        return int(reply[0]), [None if v is None else loads(v) for v in reply[1:]]


class BureauRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def count_and_get(
        self, counter: str, expiry: int, keys: Sequence[str] = ()
    ) -> tuple[int, list[Any]]:
        """Add one to the counter `counter` (created to expire in `expiry`
        seconds) and read the entries `keys`, as `get_many` would but None where
        missing, in one round trip. Returns the new count and the values."""
        names = [self.make_and_validate_key(key) for key in (counter, *keys)]
        return self._cache.count_and_get(names[0], expiry, names[1:])
