"""API key rows cached in Redis by prefix, to save a query on every API request.

A cached entry holds the key and its member as plain fields, plus the
*generation* of the prefix it was read under. Every write that changes whether a
key may be used (revoke, rotate, member suspend/reinstate/edit) bumps the
generation (`forget_key` / `forget_member`): entries of an older generation are
ignored, so the next request reads the database. Bumping again after the
transaction commits closes the race where a request reads the old row just
before the commit and caches it just after the first bump.

Writes that bypass the services (a raw `QuerySet.update()`) are seen within
`BUREAU_API_KEY_CACHE_SECONDS`.

In front of Redis, each process holds the entries it read for
`BUREAU_API_KEY_LOCAL_SECONDS` (2 s): under load that spares one of the query
endpoint's three round trips. The price: a change made in another process takes
up to that long to reach this one. The process that makes the change drops its
own copies at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from members.models import ApiKey, Member

_KEY_FIELDS = (
    "id",
    "member_id",
    "name",
    "prefix",
    "secret_hash",
    "scopes",
    "allowed_networks",
    "created_by_id",
    "created_at",
    "expires_at",
    "revoked_at",
    "last_used_at",
    "rotated_from_id",
)
_MEMBER_FIELDS = (
    "id",
    "code",
    "name",
    "kind",
    "status",
    "status_reason",
    "contributes_since",
    "created_at",
)


def _row_key(prefix: str) -> str:
    return f"apikey:row:{prefix}"


def _generation_key(prefix: str) -> str:
    return f"apikey:gen:{prefix}"


def _touch_key(prefix: str) -> str:
    return f"apikey:touch:{prefix}"


def _to_entry(key: ApiKey, generation: int) -> dict:
    return {
        "generation": generation,
        "key": {name: getattr(key, name) for name in _KEY_FIELDS},
        "member": {name: getattr(key.member, name) for name in _MEMBER_FIELDS},
    }


def _from_entry(entry: dict) -> ApiKey:
    # Lists copied: a held entry serves many requests (and threads).
    key = ApiKey(
        **{k: list(v) if isinstance(v, list) else v for k, v in entry["key"].items()}
    )
    key.member = Member(**entry["member"])
    key._state.adding = False  # a stored row: saving it would UPDATE, not INSERT
    key.member._state.adding = False
    return key


# prefix → (monotonic deadline, entry): this process's copies. Only keys that
# exist get here, so unknown prefixes cannot grow it; _LOCAL_MAX bounds it anyway.
_local: dict[str, tuple[float, dict]] = {}
# prefix → when this process last changed it: an entry read before that (by a
# thread that raced the change) is not held.
_changed: dict[str, float] = {}
_LOCAL_MAX = 10_000
_now = time.monotonic


def _hold(prefix: str, entry: dict, read_at: float) -> None:
    seconds = settings.BUREAU_API_KEY_LOCAL_SECONDS
    if seconds <= 0 or _changed.get(prefix, float("-inf")) >= read_at:
        return
    if len(_local) >= _LOCAL_MAX:
        _local.clear()
    _local[prefix] = (_now() + seconds, entry)


@dataclass(frozen=True, slots=True)
class CachedKey:
    key: ApiKey
    # `last_used_at` was written lately, by this request's or another's claim:
    # `api_key_touch` need not claim it again.
    touch_claimed: bool = False


def get_key(prefix: str) -> ApiKey | None:
    """The key with this prefix and its member (`lookup_key`)."""
    found = lookup_key(prefix)
    return None if found is None else found.key


def lookup_key(prefix: str) -> CachedKey | None:
    """The key with this prefix and its member, from this process's copy, the
    cache or the database.

    One Redis round trip on a cache hit; it also tells whether `last_used_at` was
    written lately (`touch_claimed`), so `api_key_touch` needs no other. A
    local copy counts as touched: the next Redis read, within seconds, tells."""
    read_at = _now()
    held = _local.get(prefix)
    if held is not None and held[0] > read_at:
        return CachedKey(_from_entry(held[1]), touch_claimed=True)
    timeout = settings.BUREAU_API_KEY_CACHE_SECONDS
    names = [_row_key(prefix), _generation_key(prefix), _touch_key(prefix)]
    found = cache.get_many(names)
    generation = found.get(_generation_key(prefix), 0)
    entry = found.get(_row_key(prefix))
    if entry is not None and entry.get("generation") == generation:
        _hold(prefix, entry, read_at)
        return CachedKey(_from_entry(entry), touch_claimed=_touch_key(prefix) in found)
    key = ApiKey.objects.select_related("member").filter(prefix=prefix).first()
    if key is None:
        return None
    if timeout > 0:
        # Stored under the generation read *before* the database: if a write bumps
        # it meanwhile, this entry is already stale and will be ignored.
        entry = _to_entry(key, generation)
        cache.set(_row_key(prefix), entry, timeout)
        _hold(prefix, entry, read_at)
    return CachedKey(key)


def forget_local() -> None:
    """Drop this process's copies (tests start each from a clean slate)."""
    _local.clear()
    _changed.clear()


def _bump(prefixes: list[str]) -> None:
    if len(_changed) >= _LOCAL_MAX:
        _changed.clear()
    for prefix in prefixes:
        _changed[prefix] = _now()
        _local.pop(prefix, None)
        name = _generation_key(prefix)
        try:
            cache.incr(name)
        except ValueError:  # no generation yet (or evicted): start one
            if not cache.add(name, 1, timeout=None):
                cache.incr(name)
    cache.delete_many([_row_key(prefix) for prefix in prefixes])


def _forget(prefixes: list[str]) -> None:
    if not prefixes:
        return
    _bump(prefixes)
    transaction.on_commit(lambda: _bump(prefixes))


def forget_key(key: ApiKey) -> None:
    """Call from inside the transaction that changes the key."""
    _forget([key.prefix])


def forget_member(member_id: int) -> None:
    """Call from inside the transaction that changes the member."""
    prefixes = list(
        ApiKey.objects.filter(member_id=member_id).values_list("prefix", flat=True)
    )
    _forget(prefixes)


def claim_touch(key: ApiKey) -> bool:
    """True for the first caller in `BUREAU_API_KEY_TOUCH_SECONDS`: that one
    writes `last_used_at`; the others skip the write (and its query)."""
    return cache.add(
        _touch_key(key.prefix), 1, timeout=settings.BUREAU_API_KEY_TOUCH_SECONDS
    )
