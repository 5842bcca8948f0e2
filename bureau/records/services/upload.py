"""Receiving a batch file: checks that refuse the file at once, then a Batch row and
a queued ingest. Same Idempotency-Key or same content from a member = same batch."""

from __future__ import annotations

import hashlib
import uuid
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from bureau.audit.services import IDENTITY_REFUSED, audit_record
from bureau.core.actors import ActorLike
from bureau.core.errors import BureauError, Conflict, TooLarge, ValidationFailed
from bureau.records.fileformat import FileRejected, detect_format, open_rows
from bureau.records.identity import holds_identity, mask_free_text
from bureau.records.models import Batch
from members.models import Member
from members.principals import actor_user_and_key

_READ_BLOCK = 1 << 20
ENCODINGS = ("utf-8", "gbk")
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


class FileRefused(BureauError):
    """The file as a whole cannot be ingested (docs/records.md "File refusals")."""


def _refusal(exc: FileRejected) -> BureauError:
    error = FileRefused(exc.detail, errors=exc.errors, code=exc.code)
    if exc.code == "unsupported_format":
        error.status_code = 415
    return error


def _sha256_and_size(handle: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    handle.seek(0)
    while block := handle.read(_READ_BLOCK):
        digest.update(block)
        size += len(block)
    handle.seek(0)
    return digest.hexdigest(), size


def _check_readable(handle: IO[bytes], *, fmt: str, encoding: str | None) -> str:
    """Open the header and the first row: refuse empty, unknown/missing columns,
    undecodable text now rather than after queueing. Returns the encoding seen."""
    handle.seek(0)
    try:
        stream = open_rows(handle, fmt=fmt, encoding=encoding)
        try:
            if next(iter(stream), None) is None:
                raise FileRejected("empty_file", "The file has no data rows.")
            # Still undecided after an ASCII-only start: the ingest detects it.
            seen = stream.encoding if stream.encoding_decided else ""
        finally:
            stream.close()
    except FileRejected as exc:
        raise _refusal(exc) from exc
    finally:
        handle.seek(0)
    return seen


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
    sha256, size = _sha256_and_size(handle)
    if size > settings.BUREAU_MAX_UPLOAD_BYTES:
        raise TooLarge(
            _("The file is larger than %(limit)s bytes.")
            % {"limit": settings.BUREAU_MAX_UPLOAD_BYTES}
        )
    found = _existing(
        member, idempotency_key=None, sha256=sha256, validate_only=validate_only
    )
    if found:
        return found, False
    if encoding and encoding.lower() not in ENCODINGS:
        raise ValidationFailed(errors={"encoding": [_("Must be utf-8 or gbk.")]})
    if fmt and fmt not in ("csv", "jsonl"):
        raise ValidationFailed(errors={"format": [_("Must be csv or jsonl.")]})
    if not fmt:
        try:
            fmt = detect_format(filename, content_type, handle.read(_READ_BLOCK))
        except FileRejected as exc:
            raise _refusal(exc) from exc
        finally:
            handle.seek(0)
    seen_encoding = _check_readable(handle, fmt=fmt, encoding=encoding)

    suffix = ".gz" if filename.lower().endswith(".gz") else ""
    stored_name = default_storage.save(
        f"batches/{member.code}/{uuid.uuid4().hex}.{fmt}{suffix}", File(handle)
    )
    user, key = actor_user_and_key(actor)
    try:
        with transaction.atomic():
            member_upload_lock(member.pk)
            batch = Batch.objects.create(
                member=member,
                uploaded_by=user,
                uploaded_with_key=key,
                file=stored_name,
                # The client's file name may be a person's number ("张三-1381….csv").
                original_name=mask_free_text(filename[:255]),
                size_bytes=size,
                sha256=sha256,
                format=fmt,
                encoding=(encoding or "").lower() or seen_encoding,
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
                    "sha256": sha256,
                    "size": size,
                    "format": fmt,
                    "validate_only": validate_only,
                    "strict": strict,
                },
            )
            transaction.on_commit(lambda: _enqueue(batch.pk))
    except IntegrityError:
        # A concurrent upload of the same content or key won the race.
        default_storage.delete(stored_name)
        found = _existing(
            member,
            idempotency_key=idempotency_key,
            sha256=sha256,
            validate_only=validate_only,
        )
        if found is None:
            raise
        return found, False
    return batch, True


def _enqueue(batch_id: int) -> None:
    from bureau.records.tasks import ingest_batch

    ingest_batch.delay(batch_id)
