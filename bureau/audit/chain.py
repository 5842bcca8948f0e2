"""The hash chain: one canonical form, used to write and to verify."""

from __future__ import annotations

import hashlib
import json

GENESIS_HASH = "0" * 64
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


def canonical(fields: dict) -> str:
    payload = {name: fields[name] for name in CHAINED_FIELDS}
    payload["created_at"] = payload["created_at"].isoformat()
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


_SEQUENCE_LAST = '"sequence":0}'


def canonical_before_sequence(fields: dict) -> str:
    """`canonical(fields)` cut just before the value of "sequence", which sorts
    last: whoever numbers the event appends f"{sequence}}}". That is the
    database, which knows the number only once it holds the writers' lock
    (bureau/audit/services.py)."""
    text = canonical({**fields, "sequence": 0})
    if not text.endswith(_SEQUENCE_LAST):
        raise AssertionError('"sequence" must be the last key of the canonical form')
    return text[: -len("0}")]


def chain_hash(prev_hash: str, fields: dict) -> str:
    return hashlib.sha256((prev_hash + canonical(fields)).encode()).hexdigest()
