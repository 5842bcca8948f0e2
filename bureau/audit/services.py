"""Writing the audit trail. Every write service and every read of personal data calls
`audit_record`; it serialises writers with an advisory lock so the chain never forks.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from bureau.audit.chain import GENESIS_HASH, chain_hash
from bureau.audit.models import AuditEvent
from bureau.core.context import client_ip_var, current_request_id
from bureau.core.sql import insert_new

# Fixed key for pg_advisory_xact_lock: "audit" chain writers take turns.
_CHAIN_LOCK_KEY = 0x0B0EA0D17

# Details must never carry identity numbers or phones (privacy by design).
_IDENTITY_LIKE = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9]{15}|[0-9]{17}[0-9Xx]|1[3-9][0-9]{9})(?![0-9A-Za-z])"
)


class AuditDetailsError(ValueError):
    """Raised when a caller tries to put something identifying into audit details."""


def redact_identity(text: str) -> str:
    """Replace anything shaped like an identity number or phone (e.g. a filter value
    someone typed) before it goes into audit details."""
    return _IDENTITY_LIKE.sub("[redacted]", text)


def _check_details(details: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(details, default=str, ensure_ascii=False)
    if _IDENTITY_LIKE.search(text):
        raise AuditDetailsError(
            "audit details must not contain identity numbers or phones"
        )
    # Round trip through JSON so what is hashed is exactly what JSONB gives back.
    return json.loads(text)


def _describe_actor(actor: Any) -> dict[str, Any]:
    from members.models import ApiKey, User

    key = getattr(actor, "api_key", None) if actor is not None else None
    if isinstance(actor, ApiKey):
        key = actor
    if key is not None:
        return {
            "actor_type": AuditEvent.ActorType.API_KEY,
            "actor_user_id": None,
            "actor_key_id": key.pk,
            "actor_label": f"key:{key.prefix}",
            "member_id": key.member_id,
        }
    if isinstance(actor, User):
        return {
            "actor_type": AuditEvent.ActorType.USER,
            "actor_user_id": actor.pk,
            "actor_key_id": None,
            "actor_label": actor.get_username(),
            "member_id": actor.member_id,
        }
    if isinstance(actor, str):
        return {
            "actor_type": AuditEvent.ActorType.SYSTEM,
            "actor_user_id": None,
            "actor_key_id": None,
            "actor_label": actor,
            "member_id": None,
        }
    return {
        "actor_type": AuditEvent.ActorType.ANONYMOUS,
        "actor_user_id": None,
        "actor_key_id": None,
        "actor_label": "",
        "member_id": None,
    }


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: Any = None,
    member: Any = None,
    details: dict[str, Any] | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
) -> AuditEvent:
    """Append one event. `actor` is a User, an ApiKey (or a principal carrying one),
    a string naming a system job, or None for anonymous."""
    fields = _describe_actor(actor)
    if member is not None:
        fields["member_id"] = getattr(member, "pk", member)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk
    fields.update(
        action=action,
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        request_id=current_request_id(),
        ip=client_ip_var.get(),
        details=_check_details(details or {}),
    )
    # No savepoint: if the audit row cannot be written, the caller's whole
    # transaction must fail (no unaudited read or write); and it saves two round
    # trips on every query.
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            # pg_advisory_xact_lock, then the last event, read after the lock is
            # granted: one round trip (migration 0005).
            cursor.execute(
                "SELECT sequence, hash FROM audit_chain_head(%s)", [_CHAIN_LOCK_KEY]
            )
            last = cursor.fetchone()
        sequence, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        fields["sequence"] = sequence
        fields["created_at"] = timezone.now()
        digest = chain_hash(prev_hash, fields)
        # AuditEvent.objects.create, without compiling the INSERT on every event.
        return insert_new(AuditEvent(prev_hash=prev_hash, hash=digest, **fields))
