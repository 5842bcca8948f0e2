"""Versioned identity keys: the HMAC chain that makes the key rotatable.

Clear identity numbers are never stored, so a stored hash can only be moved to a
new key by a transform of the hash itself. Each key version is therefore one link
of a chain:

    h1 = HMAC(k1, "id_type:number")        (identity.identity_hmac, unchanged)
    h2 = HMAC(k2, "link:" + h1)            (computable from the stored h1)
    h3 = HMAC(k3, "link:" + h2)  …

`Subject.id_hash` holds the chain value at `Subject.key_version`.
`rotate_identity_key` moves stored hashes up the chain in batches;
while it runs, look-ups try every version (`lookup_hashes`), and ingest moves
the subjects of each chunk up before merging it (`services/ingest.py`).

What this does and does not buy: the stored hashes come to depend on the new key,
so a database copy plus an *old* key alone no longer lets anyone test guesses.
But hashing a number to the current version needs every key of the chain from
the first one: old keys stay configured (and secret) for good. Retiring an old key
for real needs the clear numbers, i.e. every member furnishing again.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from bureau.records import identity
from bureau.records.events import subjects_rehashed
from bureau.records.models import Subject

__all__ = (
    "KeyChain",
    "current_hash",
    "current_key",
    "key_chain",
    "lift_subjects",
    "lookup_hashes",
    "rehash_subjects",
    "rotation_pending",
    "version_counts",
)


@dataclass(frozen=True)
class KeyChain:
    """Keys by version, oldest first; the last one is current."""

    keys: tuple[tuple[int, bytes], ...]

    def __post_init__(self) -> None:
        versions = [version for version, _ in self.keys]
        if not versions:
            raise ImproperlyConfigured("No identity key is configured.")
        expected = list(range(versions[0], versions[0] + len(versions)))
        if versions != expected:
            raise ImproperlyConfigured(
                "Identity key versions must be consecutive (every link of the chain "
                f"is needed to hash a number); configured: {versions}."
            )

    @property
    def current_version(self) -> int:
        return self.keys[-1][0]

    @property
    def first_version(self) -> int:
        return self.keys[0][0]

    @cached_property
    def _by_version(self) -> dict[int, bytes]:
        return dict(self.keys)

    @property
    def rotated(self) -> bool:
        """More than one version: stored hashes may sit on older links."""
        return len(self.keys) > 1

    def link(self, version: int, previous: str) -> str:
        """The hash at `version` from the stored hash at `version - 1`."""
        key = self._by_version[version]
        return hmac.digest(key, b"link:" + previous.encode(), "sha256").hex()

    def lift(self, stored: str, *, from_version: int) -> str:
        """A stored hash at `from_version` moved up to the current version."""
        value = stored
        for version in range(from_version + 1, self.current_version + 1):
            value = self.link(version, value)
        return value

    def hashes(self, id_type: str, normalized: str) -> list[tuple[int, str]]:
        """(version, hash) for every link, oldest first."""
        value = identity.identity_hmac(self.keys[0][1], id_type, normalized)
        chain = [(self.first_version, value)]
        for version, _ in self.keys[1:]:
            value = self.link(version, value)
            chain.append((version, value))
        return chain

    def current_hash(self, id_type: str, normalized: str) -> str:
        value = identity.identity_hmac(self.keys[0][1], id_type, normalized)
        return self.lift(value, from_version=self.first_version)

    def phone_hash(self, normalized: str) -> str:
        """Phones follow the same chain (they are not looked up, only stored)."""
        value = identity.phone_hmac(self.keys[0][1], normalized)
        return self.lift(value, from_version=self.first_version)


def key_chain() -> KeyChain:
    """The chain from settings: `BUREAU_IDENTITY_KEYS` (older versions) plus the
    current `BUREAU_IDENTITY_KEY` at `BUREAU_IDENTITY_KEY_VERSION`. Built once per
    distinct setting (queries and screenings ask for it on every person)."""
    older = getattr(settings, "BUREAU_IDENTITY_KEYS", {})
    return _chain_from(
        settings.BUREAU_IDENTITY_KEY_VERSION,
        settings.BUREAU_IDENTITY_KEY,
        tuple(sorted((int(v), k) for v, k in older.items())),
    )


@lru_cache(maxsize=8)
def _chain_from(current: int, current_key: str, older: tuple) -> KeyChain:
    keys = dict(older)
    keys[current] = current_key
    newer = [version for version in keys if version > current]
    if newer:
        raise ImproperlyConfigured(
            f"Identity key versions {newer} are newer than the current version "
            f"{current} (BUREAU_IDENTITY_KEY_VERSION)."
        )
    return KeyChain(tuple((v, keys[v].encode()) for v in sorted(keys)))


def current_key() -> bytes:
    return settings.BUREAU_IDENTITY_KEY.encode()


def current_hash(id_type: str, normalized: str) -> str:
    """The hash new subjects get and inquiries record."""
    return key_chain().current_hash(id_type, normalized)


def lookup_hashes(id_type: str, normalized: str) -> list[tuple[int, str]]:
    """Every hash a stored subject of this number may carry: current first."""
    return key_chain().hashes(id_type, normalized)[::-1]


# -- moving stored subjects up the chain -------------------------------------------
# Both statements lock the rows they change in id order (no deadlock between an
# ingest chunk and the command), change a row only if it still carries the old
# hash, and skip a subject whose current hash is taken already (a duplicate made
# outside these paths: the command reports it, it is never merged silently).
# Rows of other apps keyed by a moved hash (reports' past inquiries: a borrower's
# list of who looked them up matches misses by hash) move with it, in the same
# transaction, through `subjects_rehashed` (events.py).

# Both statements below pick subjects (`lifted`) and then do the same: move them to
# the new hash and version, and return the moves for the event.
_MOVE_LIFTED = """
moved AS (
    UPDATE records_subject s
       SET id_hash = lifted.new_hash, key_version = %(version)s
      FROM lifted
     WHERE s.id = lifted.id
 RETURNING s.id, lifted.id_type, lifted.old_hash, lifted.new_hash
)
SELECT id, id_type, old_hash, new_hash FROM moved
"""

_LIFT_BY_HASH = (
    """
WITH lifted AS (
    SELECT s.id, s.id_type, s.id_hash AS old_hash, v.new_hash
      FROM unnest(%(id_types)s::text[], %(old)s::text[], %(new)s::text[])
           AS v(id_type, old_hash, new_hash)
      JOIN records_subject s ON s.id_type = v.id_type AND s.id_hash = v.old_hash
     WHERE NOT EXISTS (SELECT 1 FROM records_subject d
                        WHERE d.id_type = v.id_type AND d.id_hash = v.new_hash)
     ORDER BY s.id
       FOR UPDATE OF s
),
"""
    + _MOVE_LIFTED
)

_REHASH_BY_ID = (
    """
WITH lifted AS (
    SELECT s.id, s.id_type, s.id_hash AS old_hash, v.new_hash
      FROM unnest(%(ids)s::bigint[], %(old)s::text[], %(new)s::text[])
           AS v(id, old_hash, new_hash)
      JOIN records_subject s ON s.id = v.id
     WHERE s.key_version = %(from_version)s AND s.id_hash = v.old_hash
       AND NOT EXISTS (SELECT 1 FROM records_subject d
                        WHERE d.id_type = s.id_type AND d.id_hash = v.new_hash)
     ORDER BY s.id
       FOR UPDATE OF s
),
"""
    + _MOVE_LIFTED
)


def rotation_pending(chain: KeyChain) -> bool:
    """Some subject still carries an older link (one scan; ingest asks once a
    pass, and only when more than one key is configured)."""
    if not chain.rotated:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM records_subject WHERE key_version < %s)",
            [chain.current_version],
        )
        return cursor.fetchone()[0]


def _announce(rows: list[tuple]) -> None:
    """`subjects_rehashed` for the moved rows (id, id_type, old, new), inside the
    transaction that moved them."""
    if rows:
        moves = [(id_type, old, new) for _, id_type, old, new in rows]
        subjects_rehashed.send(Subject, moves=moves)


def lift_subjects(chain: KeyChain, lifts: Iterable[tuple[str, str, str]]) -> int:
    """Move the subjects found under an older hash to the current one, from the
    (id_type, older hash, current hash) triples of numbers seen in clear (ingest).
    One transaction (the caller's, when it has one) with `subjects_rehashed`.
    Returns how many subjects moved."""
    unique = sorted(set(lifts))
    if not unique:
        return 0
    id_types, old, new = (list(column) for column in zip(*unique, strict=True))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _LIFT_BY_HASH,
            {
                "id_types": id_types,
                "old": old,
                "new": new,
                "version": chain.current_version,
            },
        )
        rows = cursor.fetchall()
        _announce(rows)
    return len(rows)


def rehash_subjects(
    chain: KeyChain, *, from_version: int, after_id: int, limit: int
) -> tuple[int, int, list[int]]:
    """Re-hash up to `limit` subjects at `from_version` (ids above `after_id`)
    to the current version, from their stored hashes. Returns (last id read,
    subjects re-hashed, ids left behind because their current hash is taken).
    One transaction (the caller's, when it has one) with `subjects_rehashed`."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, id_hash FROM records_subject"
            " WHERE key_version = %s AND id > %s ORDER BY id LIMIT %s",
            [from_version, after_id, limit],
        )
        rows = cursor.fetchall()
        if not rows:
            return after_id, 0, []
        ids = [row[0] for row in rows]
        old = [row[1] for row in rows]
        new = [chain.lift(value, from_version=from_version) for value in old]
        cursor.execute(
            _REHASH_BY_ID,
            {
                "ids": ids,
                "old": old,
                "new": new,
                "from_version": from_version,
                "version": chain.current_version,
            },
        )
        rows = cursor.fetchall()
        _announce(rows)
        moved = {row[0] for row in rows}
        # A row gone from `from_version` meanwhile was moved by a concurrent ingest.
        cursor.execute(
            "SELECT id FROM records_subject WHERE id = ANY(%s) AND key_version = %s",
            [[i for i in ids if i not in moved], from_version],
        )
        left = [row[0] for row in cursor.fetchall()]
    return ids[-1], len(moved), left


def version_counts() -> dict[int, int]:
    """Subjects per key version."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT key_version, count(*) FROM records_subject GROUP BY 1 ORDER BY 1"
        )
        return dict(cursor.fetchall())
