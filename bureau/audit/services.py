"""Writing the audit trail. Every write service and every read of personal data calls
`audit_record`; it serialises writers with an advisory lock so the chain never forks.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from bureau.audit.chain import GENESIS_HASH, canonical_before_sequence
from bureau.audit.checkpoints import checkpoint_sign, checkpoint_store, checkpoints_read
from bureau.audit.keys import chain_keys
from bureau.audit.models import AuditEvent
from bureau.audit.selectors import ChainReport, audit_chain_verify
from bureau.core.actors import ActorLike, as_actor
from bureau.core.context import client_ip_var, current_request_id
from bureau.core.identity_shapes import contains_identity_word, redact_free_text
from bureau.core.sql import (
    fetchone_prepared,
    insert_new,
    insert_params,
    mark_saved,
    pending_insert,
)

# Fixed key for pg_advisory_xact_lock: "audit" chain writers take turns.
_CHAIN_LOCK_KEY = 0x0B0EA0D17

# The field error for a value refused because it looks like one of those: a
# msgid, translated where the error is made (gettext(IDENTITY_REFUSED)).
IDENTITY_REFUSED = gettext_noop("Must not contain identity numbers or phones.")


class AuditDetailsError(ValueError):
    """Raised when a caller tries to put something identifying into audit details."""


def contains_identity(text: str) -> bool:
    """Whether a word of `text` is shaped like an identity number or phone
    (bureau/core/identity_shapes.py): what audit details must never hold."""
    return contains_identity_word(text)


def refuse_identity(**fields: str) -> None:
    """400 for each field whose text holds something shaped like an identity
    number or phone: such a value (a key's name, a username, a URL) is stored and
    audited as it is, and must not carry personal data. Text the caller did not
    choose to store (a request path, a failed login's username) is redacted with
    `redact_identity` instead."""
    from bureau.core.errors import ValidationFailed

    errors = {
        name: [gettext(IDENTITY_REFUSED)]
        for name, text in fields.items()
        if text and contains_identity(text)
    }
    if errors:
        raise ValidationFailed(errors=errors)


def redact_identity(text: str) -> str:
    """Replace anything shaped like an identity number or phone (e.g. a filter value
    someone typed) before it goes into audit details. Looser than the check of
    details (inside words too: "ID11010519491231002X"), so what it leaves passes."""
    return redact_free_text(text)


def _as_jsonb_gives_back(value: Any) -> Any:
    """JSON-loaded `value` as JSONB will give it back: -0.0 is 0.0. NaN and
    infinities (no JSONB) and floats of 1e16 and above (they come back as
    integers, which would change the hash on verify) are refused."""
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) >= 1e16:
            raise AuditDetailsError(
                "audit details take finite floats below 1e16; give others as text"
            )
        return value + 0.0  # -0.0 → 0.0
    if isinstance(value, dict):
        return {key: _as_jsonb_gives_back(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_jsonb_gives_back(item) for item in value]
    return value


def _check_details(details: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(details, default=str, ensure_ascii=False)
    if contains_identity_word(text):
        raise AuditDetailsError(
            "audit details must not contain identity numbers or phones"
        )
    # Round trip through JSON so what is hashed is exactly what JSONB gives back.
    return _as_jsonb_gives_back(json.loads(text))


def _describe_actor(actor: ActorLike) -> dict[str, Any]:
    who = as_actor(actor)
    return {
        "actor_type": AuditEvent.ActorType(who.kind),
        "actor_user_id": who.user_id,
        "actor_key_id": who.key_id,
        "actor_label": who.label,
        "member_id": who.member_id,
    }


@cache
def _append_sql() -> tuple[str, tuple]:
    """The INSERT of one event that also links it into the chain, and the fields it
    takes as parameters (every column but the id and the three chain columns).

    `audit_chain_head` takes the writers' lock, then reads the last event with a
    fresh snapshot (migration 0005); the statement numbers the new event after
    it and computes its hash as `keyed_chain_hash` does: HMAC-SHA256 of the
    previous hash and the canonical JSON, whose last key is "sequence"
    (bureau/audit/chain.py), so Python sends the JSON up to that value and
    PostgreSQL appends the number. The HMAC is two sha256() over the key's pads,
    which come as bound parameters of this statement alone: the key is in no
    table, function or SQL text, and server-side binding keeps it out of
    `pg_stat_activity` and the statement log (the server's
    `log_parameter_max_length` = 0 keeps it out of the parameter log:
    docs/operations.md). One round trip, and the lock is held only until the
    statement's transaction ends: at once in autocommit, else with the caller's
    transaction."""
    meta = AuditEvent._meta
    chain_columns = ("sequence", "prev_hash", "hash")
    fields = tuple(
        field
        for field in meta.concrete_fields
        if field is not meta.auto_field and field.name not in chain_columns
    )
    quote = connection.ops.quote_name
    # Concrete fields have a column; the stubs type it str | None.
    columns = ", ".join(
        [quote(cast(str, field.column)) for field in fields]
        + [quote(c) for c in chain_columns]
    )
    pk_column = cast(str, meta.pk.column)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"""
        chain AS MATERIALIZED (
            SELECT coalesce(max(h.sequence), 0) + 1 AS sequence,
                   coalesce(max(h.hash), %s) AS prev_hash
            FROM audit_chain_head(%s) h
        )
        INSERT INTO {quote(meta.db_table)} ({columns})
        VALUES (
            {placeholders},
            (SELECT sequence FROM chain),
            (SELECT prev_hash FROM chain),
            (SELECT encode(sha256(%s::bytea || sha256(%s::bytea || convert_to(
                prev_hash || %s::text || sequence::text || '}}', 'UTF8'))), 'hex')
             FROM chain)
        )
        RETURNING {quote(pk_column)}, sequence, prev_hash, hash
    """  # noqa: S608 - names from the model's metadata, values bound
    return sql, fields


def audit_record(
    *,
    actor: ActorLike,
    action: str,
    obj: Any = None,
    member: Any = None,
    details: dict[str, Any] | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    insert_obj: bool = False,
) -> AuditEvent:
    """Append one event. `actor` is an Actor or a principal giving one (a User,
    an ApiKey, a KeyPrincipal), a string naming a system job, or None for
    anonymous (bureau/core/actors.py).

    `insert_obj`: `obj` is new; INSERT it in the same statement as its event, so
    that both are written, or neither, with no transaction block and in one round
    trip (the query endpoint's inquiry). Where that cannot be done (save signals,
    an id that only the database gives), it is saved first, in one transaction
    with the event."""
    pending = pending_insert(obj) if insert_obj else None
    if insert_obj and pending is None:
        with transaction.atomic():
            insert_new(obj)
            return audit_record(
                actor=actor,
                action=action,
                obj=obj,
                member=member,
                details=details,
                object_type=object_type,
                object_id=object_id,
            )
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
        # Taken before the chain lock: concurrent events can be out of time order
        # by a lock wait. Their order is `sequence`.
        created_at=timezone.now(),
    )
    keys = chain_keys()
    fields["chain_key_version"] = keys.current_version
    event = AuditEvent(**fields)
    sql, columns = _append_sql()
    params = [GENESIS_HASH, _CHAIN_LOCK_KEY, *insert_params(event, columns)]
    params += [*keys.current_pads, canonical_before_sequence(fields)]
    if pending is not None:
        sql = f"WITH new_row AS ({pending.sql}), {sql}"
        params = pending.params + params
    else:
        sql = f"WITH {sql}"
    row = fetchone_prepared(sql, params)
    assert row is not None  # INSERT … RETURNING gives back its row
    event.pk, event.sequence, event.prev_hash, event.hash = row
    if pending is not None:
        pending.done()
    mark_saved(event)
    return event


def audit_trail_read(
    *, actor: ActorLike, events: QuerySet[AuditEvent], details: dict[str, Any]
) -> QuerySet[AuditEvent]:
    """Reading the trail is itself audited (`audit.read`, with the filters and
    format in `details`); returns `events` as they stood when read, this read's
    own event excluded."""
    read = audit_record(actor=actor, action="audit.read", details=details)
    return events.filter(sequence__lt=read.sequence)


# --- checkpoints -----------------------------------------------------------------


class AuditChainBroken(Exception):
    """The chain did not verify: no checkpoint may vouch for it."""

    def __init__(self, report: ChainReport):
        super().__init__(report.reason)
        self.report = report


def audit_checkpoint_write(*, verified: ChainReport | None = None) -> Path | None:
    """Sign and store a checkpoint of the chain's head (bureau/audit/checkpoints.py).

    `verified`: the report of a full verification just made (`audit_verify
    --checkpoint`), checkpointed as it stands. Without it (beat), the events from
    the latest valid checkpoint on are verified first, so a checkpoint only ever
    extends one already trusted. Raises AuditChainBroken when the chain does not
    verify. Returns the new file, or None when there is nothing new to vouch
    for (no event, or none since the latest checkpoint)."""
    if verified is None:
        checkpoints, _ = checkpoints_read()
        verified = audit_chain_verify(
            checkpoints=checkpoints,
            invalid=[],  # they prove nothing; audit_verify reports them
            since=checkpoints[-1] if checkpoints else None,
        )
    if not verified.intact:
        raise AuditChainBroken(verified)
    latest = verified.latest_checkpoint
    if verified.head_sequence == 0 or (
        latest is not None
        and (latest.sequence, latest.head_hash)
        == (verified.head_sequence, verified.head_hash)
    ):
        return None
    checkpoint = checkpoint_sign(
        sequence=verified.head_sequence,
        head_hash=verified.head_hash,
        event_count=verified.event_count,
    )
    return checkpoint_store(checkpoint)
