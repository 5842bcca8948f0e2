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


def chain_hash(prev_hash: str, fields: dict) -> str:
    return hashlib.sha256((prev_hash + canonical(fields)).encode()).hexdigest()
