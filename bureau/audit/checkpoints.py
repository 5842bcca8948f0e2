"""Signed checkpoints of the audit chain, kept outside the database.

A checkpoint says "at this time the chain held `event_count` events, the last
one numbered `sequence` with hash `head_hash`", signed with the Ed25519
checkpoint key: the signed tree head of Certificate Transparency (RFC 6962 §3.5)
for a hash chain. Whoever can rewrite the database cannot rewrite these, so
`audit_verify` compares the chain with them and sees a truncated table, a
deleted tail, a missing or rewritten event.

One JSON file per checkpoint in `BUREAU_AUDIT_CHECKPOINT_DIR`, never replaced:
written to a temporary file, made read-only, then hard-linked to its name (which
fails if the name exists) — or, on storage without hard links (object-store
mounts), created exclusively. Point the directory at write-once storage.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from bureau.audit.keys import checkpoint_keys

logger = logging.getLogger(__name__)

FORMAT = "bureau-audit-checkpoint/1"
_SIGNED = (
    "format",
    "sequence",
    "head_hash",
    "event_count",
    "created_at",
    "key_version",
)
# Errors of a filesystem without hard links: fall back to an exclusive create.
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK}


@dataclass(frozen=True)
class Checkpoint:
    sequence: int
    head_hash: str
    event_count: int
    created_at: str  # ISO 8601, UTC
    key_version: int
    signature: str = ""  # base64
    format: str = FORMAT
    name: str = ""  # the file it was read from; not signed

    def signed_bytes(self) -> bytes:
        body = {field: getattr(self, field) for field in _SIGNED}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def to_json(self) -> bytes:
        body = asdict(self)
        body.pop("name")
        return (json.dumps(body, sort_keys=True, indent=2) + "\n").encode()


@dataclass(frozen=True)
class InvalidCheckpoint:
    """A file in the checkpoint directory that proves nothing: unreadable,
    malformed, signed with an unknown key or not by the checkpoint key."""

    name: str
    problem: str


def checkpoint_sign(*, sequence: int, head_hash: str, event_count: int) -> Checkpoint:
    keys = checkpoint_keys()
    unsigned = Checkpoint(
        sequence=sequence,
        head_hash=head_hash,
        event_count=event_count,
        created_at=timezone.now().astimezone(UTC).isoformat(),
        key_version=keys.version,
    )
    signature = keys.sign(unsigned.signed_bytes())
    return Checkpoint(
        **{**asdict(unsigned), "signature": base64.b64encode(signature).decode()}
    )


def _parse(name: str, raw: bytes) -> Checkpoint | InvalidCheckpoint:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return InvalidCheckpoint(name, _("not valid JSON"))
    fields = (*_SIGNED, "signature")
    ints = ("sequence", "event_count", "key_version")
    if (
        not isinstance(body, dict)
        or set(body) != set(fields)
        or body["format"] != FORMAT
        or not all(type(body[f]) is int and body[f] >= 0 for f in ints)
        or not all(isinstance(body[f], str) for f in set(fields) - set(ints))
    ):
        return InvalidCheckpoint(name, _("missing or malformed fields"))
    checkpoint = Checkpoint(**body, name=name)
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except binascii.Error:
        signature = b""
    verified = checkpoint_keys().verify(
        checkpoint.key_version, signature, checkpoint.signed_bytes()
    )
    if verified is None:
        return InvalidCheckpoint(
            name,
            _("signed with checkpoint key version %(version)s, which is not configured")
            % {"version": checkpoint.key_version},
        )
    if not verified:
        return InvalidCheckpoint(
            name, _("the signature does not match: the file was altered or forged")
        )
    return checkpoint


def checkpoints_read(
    directory: Path | None = None,
) -> tuple[list[Checkpoint], list[InvalidCheckpoint]]:
    """Every checkpoint file, verified: the valid ones by sequence, and the others.
    Temporary files (names starting with ".") are not checkpoints yet."""
    directory = Path(directory or settings.BUREAU_AUDIT_CHECKPOINT_DIR)
    valid: list[Checkpoint] = []
    invalid: list[InvalidCheckpoint] = []
    if not directory.is_dir():
        return valid, invalid
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            raw = path.read_bytes()
        except OSError as error:
            invalid.append(InvalidCheckpoint(path.name, error.strerror or str(error)))
            continue
        found = _parse(path.name, raw)
        if isinstance(found, Checkpoint):
            valid.append(found)
        else:
            invalid.append(found)
    valid.sort(key=lambda c: (c.sequence, c.created_at))
    return valid, invalid


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def checkpoint_store(checkpoint: Checkpoint, directory: Path | None = None) -> Path:
    """Write `checkpoint` as a new read-only file; never replace one. Raises
    FileExistsError if its name is taken."""
    directory = Path(directory or settings.BUREAU_AUDIT_CHECKPOINT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromisoformat(checkpoint.created_at).strftime("%Y%m%dT%H%M%S%fZ")
    final = directory / f"{checkpoint.sequence:012d}-{stamp}.json"
    data = checkpoint.to_json()
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, final)  # atomic, and refuses an existing name
        except OSError as error:
            if error.errno not in _NO_LINKS:
                raise
            with open(final, "xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    # Read-only last, once it has its one name: on WORM filers (e.g. SnapLock)
    # that is what commits a file to write-once. Best effort elsewhere.
    try:
        os.chmod(final, 0o444)
    except OSError:
        logger.warning("audit checkpoint %s could not be made read-only", final)
    _fsync_directory(directory)
    return final
