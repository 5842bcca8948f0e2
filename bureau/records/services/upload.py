"""Receiving a batch file: checks that refuse the file at once, then a Batch row and
a queued ingest. Same Idempotency-Key or same content from a member = same batch."""

from __future__ import annotations

from typing import IO

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from bureau.audit.services import IDENTITY_REFUSED, audit_record
from bureau.core.actors import ActorLike
from bureau.core.errors import Conflict, ValidationFailed
from bureau.records.identity import holds_identity, mask_free_text
from bureau.records.intake import FURNISHING_FILE, file_accept, file_receive

# FileRefused is raised by the intake; imported from here by the API's views.
from bureau.records.intake import FileRefused as FileRefused
from bureau.records.models import Batch
from members.models import Member
from members.principals import actor_user_and_key

# Advisory lock namespace, keyed by member: a member's uploads (and corrections)
# take their place in its furnishing order one at a time, so batch ids follow the
# order in which they commit and a run never misses an earlier batch still
# committing (ingest.py applies a member's batches in id order).
MEMBER_UPLOAD_LOCK_SPACE = 0x1B1


def member_upload_lock(member_id: int) -> None:
    """Hold the member's upload lock until the current transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [MEMBER_UPLOAD_LOCK_SPACE, member_id],
        )


def _existing(
    member: Member,
    *,
    idempotency_key: str | None,
    sha256: str | None,
    validate_only: bool,
) -> Batch | None:
    if idempotency_key:
        found = Batch.objects.filter(
            member=member, idempotency_key=idempotency_key
        ).first()
        if found and found.validate_only != validate_only:
            # Same key, different request: answering with the other batch would
            # silently drop this one (e.g. a real upload after a validate_only run).
            if found.validate_only:
                detail = _(
                    "This Idempotency-Key was used for a validate_only upload "
                    "(batch %(batch)s); use a new key."
                )
            else:
                detail = _(
                    "This Idempotency-Key was used for a real upload (batch "
                    "%(batch)s); use a new key."
                )
            raise Conflict(
                detail % {"batch": found.pk},
                errors={"Idempotency-Key": [_("already used for a different request")]},
            )
        if found:
            return found
    if sha256:
        return Batch.objects.filter(
            member=member, sha256=sha256, validate_only=validate_only
        ).first()
    return None


def batch_create(
    *,
    member: Member,
    handle: IO[bytes],
    filename: str,
    content_type: str | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
    validate_only: bool = False,
    strict: bool = False,
    idempotency_key: str | None = None,
    actor: ActorLike = None,
) -> tuple[Batch, bool]:
    """Store the file and queue its ingest. Returns (batch, created)."""
    if idempotency_key and holds_identity(idempotency_key):
        # Stored as given on the batch: never a person's number.
        raise ValidationFailed(errors={"Idempotency-Key": [_(IDENTITY_REFUSED)]})
    found = _existing(
        member,
        idempotency_key=idempotency_key,
        sha256=None,
        validate_only=validate_only,
    )
    if found:
        return found, False
    received = file_receive(
        handle=handle, filename=filename, content_type=content_type, digest=True
    )
    found = _existing(
        member,
        idempotency_key=None,
        sha256=received.sha256,
        validate_only=validate_only,
    )
    if found:
        return found, False
    accepted = file_accept(
        received=received,
        kind=FURNISHING_FILE,
        directory=f"batches/{member.code}",
        fmt=fmt,
        encoding=encoding,
    )
    user, key = actor_user_and_key(actor)
    try:
        with transaction.atomic():
            member_upload_lock(member.pk)
            batch = Batch.objects.create(
                member=member,
                uploaded_by=user,
                uploaded_with_key=key,
                file=accepted.name,
                # The client's file name may be a person's number ("张三-1381….csv").
                original_name=mask_free_text(filename[:255]),
                size_bytes=accepted.size,
                sha256=accepted.sha256,
                format=accepted.format,
                encoding=accepted.encoding,
                idempotency_key=idempotency_key or None,
                validate_only=validate_only,
                strict=strict,
            )
            audit_record(
                actor=actor,
                action="batch.create",
                obj=batch,
                member=member,
                details={
                    **accepted.audit_details(),
                    "validate_only": validate_only,
                    "strict": strict,
                },
            )
            transaction.on_commit(lambda: _enqueue(batch.pk))
    except IntegrityError:
        # A concurrent upload of the same content or key won the race.
        accepted.discard()
        found = _existing(
            member,
            idempotency_key=idempotency_key,
            sha256=accepted.sha256,
            validate_only=validate_only,
        )
        if found is None:
            raise
        return found, False
    return batch, True


def _enqueue(batch_id: int) -> None:
    from bureau.records.tasks import ingest_batch

    ingest_batch.delay(batch_id)
