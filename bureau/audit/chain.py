"""The hash chain: one canonical form, used to write and to verify.

Each event's `hash` links it to the one before:

    version 0 (legacy, events written before keying):
        hash = sha256(prev_hash + canonical JSON)
    version v >= 1:
        hash = HMAC-SHA256(chain key v, prev_hash + canonical JSON)

The canonical JSON of a keyed event also holds its `chain_key_version`. Whoever
can write the table can recompute a legacy hash, but not a keyed one: the keys
live in the environment (bureau/audit/keys.py), never in the database. The first
keyed event covers the last legacy hash in its own, so it seals the legacy prefix
of the chain too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

GENESIS_HASH = "0" * 64
# Events written before the chain was keyed: plain SHA-256, no key needed.
LEGACY_KEY_VERSION = 0
CHAINED_FIELDS = (
    "sequence",
    "created_at",
    "actor_type",
    "actor_user_id",
    "actor_key_id",
    "actor_label",
    "member_id",
    "action",
    "object_type",
    "object_id",
    "request_id",
    "ip",
    "details",
)
KEYED_FIELDS = (*CHAINED_FIELDS, "chain_key_version")


def canonical(fields: Mapping[str, Any]) -> str:
    """The text an event's hash is computed over (after its prev_hash). Legacy
    events keep the exact form they were hashed with, without a key version."""
    version = fields.get("chain_key_version", LEGACY_KEY_VERSION)
    names = CHAINED_FIELDS if version == LEGACY_KEY_VERSION else KEYED_FIELDS
    payload = {name: fields[name] for name in names}
    payload["created_at"] = payload["created_at"].isoformat()
    return _ENCODER.encode(payload)


# One encoder for every event: json.dumps with options builds a new one per call,
# which is most of what verifying a long trail costs.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_SEQUENCE_LAST = '"sequence":0}'


def canonical_before_sequence(fields: Mapping[str, Any]) -> str:
    """`canonical(fields)` cut just before the value of "sequence", which sorts
    last: whoever numbers the event appends f"{sequence}}}". That is the
    database, which knows the number only once it holds the writers' lock
    (bureau/audit/services.py)."""
    text = canonical({**fields, "sequence": 0})
    if not text.endswith(_SEQUENCE_LAST):
        raise AssertionError('"sequence" must be the last key of the canonical form')
    return text[: -len("0}")]


def chain_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The legacy, unkeyed link (version 0): anyone can compute it."""
    return hashlib.sha256((prev_hash + canonical(fields)).encode()).hexdigest()


def keyed_chain_hash(key: bytes, prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The keyed link of an event made with `key` (its `chain_key_version`)."""
    message = (prev_hash + canonical(fields)).encode()
    return hmac.digest(key, message, "sha256").hex()


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """(key XOR opad, key XOR ipad) of RFC 2104, 64 bytes each, so that PostgreSQL
    computes HMAC-SHA256 with its built-in sha256() alone:
    sha256(outer || sha256(inner || message)). No extension is needed."""
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    return bytes(b ^ 0x5C for b in key), bytes(b ^ 0x36 for b in key)
