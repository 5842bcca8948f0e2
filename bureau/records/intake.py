"""Receiving a raw file: measure it, refuse what cannot be read, store it.

One intake for every file a member sends: a furnishing batch
(records/services/upload.py) and a bulk screening (reports/services/screening.py).
It lives in records, next to the reader it uses (records/fileformat), because
core may not import records and records may not import reports; reports may
import records. Not inside records/fileformat: that package is plain Python
(no settings, storage or translations) so it can be tested and fuzzed alone.

The two steps are separate so an upload can answer a file it has seen before by
its sha256 before anything else is checked (records/services/upload.py):
`file_receive` (size limit, optional digest), then `file_accept` (format and
encoding options, format detection, the header and first row as its `FileKind`
says, storage). What the caller does with the stored file, and when it is
deleted, is its own business (records/services/raw_files.py).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils.translation import gettext

from bureau.core.errors import BureauError, TooLarge, ValidationFailed
from bureau.records.fileformat import (
    COLUMNS,
    REQUIRED_COLUMNS,
    FileRejected,
    detect_format,
    open_rows,
)

READ_BLOCK = 1 << 20
ENCODINGS = ("utf-8", "gbk")
FORMATS = ("csv", "jsonl")


class FileRefused(BureauError):
    """The file as a whole cannot be ingested (docs/records.md "File refusals")."""


def _refusal(exc: FileRejected) -> FileRefused:
    """The API error for a reader's refusal: 415 for a format it does not read."""
    error = FileRefused(exc.detail, errors=exc.errors, code=exc.code)
    if exc.code == "unsupported_format":
        error.status_code = 415
    return error


@dataclass(frozen=True)
class FileKind:
    """The header a kind of file must have: the furnishing columns unless told."""

    columns: tuple[str, ...] = COLUMNS
    required: tuple[str, ...] = REQUIRED_COLUMNS


FURNISHING_FILE = FileKind()


@dataclass(frozen=True)
class Received:
    """A file as the client sent it, measured: its size, and its sha256 when
    asked for ("" otherwise)."""

    handle: IO[bytes]
    filename: str
    content_type: str | None
    size: int
    sha256: str = ""


@dataclass(frozen=True)
class Accepted:
    """A file that passed the intake and is in storage under `name`.

    `encoding` is the one given (lower case), else the one the first rows
    decided, else "" (an ASCII-only start: the reader decides later)."""

    name: str
    size: int
    sha256: str
    format: str
    encoding: str
    compressed: bool

    def audit_details(self) -> dict[str, str | int]:
        """What the audit event of the row that owns the file says about it
        (never its name: the client's may be a person's number)."""
        digest = {"sha256": self.sha256} if self.sha256 else {}
        return {**digest, "size": self.size, "format": self.format}

    def discard(self) -> None:
        """Delete the stored file (the row that would own it was not written)."""
        default_storage.delete(self.name)


def file_receive(
    *,
    handle: IO[bytes],
    filename: str,
    content_type: str | None = None,
    digest: bool,
    max_bytes: int | None = None,
) -> Received:
    """Measure the file (with `digest`, hash it too); TooLarge past `max_bytes`,
    by default BUREAU_MAX_UPLOAD_BYTES. Without a digest the size is a seek to
    the end: nothing is read."""
    limit = settings.BUREAU_MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    handle.seek(0)
    sha256 = ""
    if digest:
        hasher, size = hashlib.sha256(), 0
        while block := handle.read(READ_BLOCK):
            hasher.update(block)
            size += len(block)
        sha256 = hasher.hexdigest()
    else:
        handle.seek(0, io.SEEK_END)
        size = handle.tell()
    handle.seek(0)
    if size > limit:
        raise TooLarge(
            gettext("The file is larger than %(limit)s bytes.") % {"limit": limit}
        )
    return Received(
        handle=handle,
        filename=filename,
        content_type=content_type,
        size=size,
        sha256=sha256,
    )


def _check_options(*, fmt: str | None, encoding: str | None) -> None:
    if encoding and encoding.lower() not in ENCODINGS:
        raise ValidationFailed(errors={"encoding": [gettext("Must be utf-8 or gbk.")]})
    if fmt and fmt not in FORMATS:
        raise ValidationFailed(errors={"format": [gettext("Must be csv or jsonl.")]})


def _detect(handle: IO[bytes], *, filename: str, content_type: str | None) -> str:
    try:
        return detect_format(filename, content_type, handle.read(READ_BLOCK))
    except FileRejected as exc:
        raise _refusal(exc) from exc
    finally:
        handle.seek(0)


def _check_readable(
    handle: IO[bytes],
    *,
    fmt: str,
    encoding: str | None,
    columns: tuple[str, ...],
    required: tuple[str, ...],
) -> str:
    """Open the header and the first row: refuse empty, unknown/missing columns,
    undecodable text now rather than after queueing. Returns the encoding seen."""
    handle.seek(0)
    try:
        stream = open_rows(
            handle, fmt=fmt, encoding=encoding, columns=columns, required=required
        )
        try:
            if next(iter(stream), None) is None:
                raise FileRejected("empty_file", "The file has no data rows.")
            # Still undecided after an ASCII-only start: the reader decides later.
            seen = stream.encoding if stream.encoding_decided else ""
        finally:
            stream.close()
    except FileRejected as exc:
        raise _refusal(exc) from exc
    finally:
        handle.seek(0)
    return seen


def file_accept(
    *,
    received: Received,
    kind: FileKind,
    directory: str,
    fmt: str | None = None,
    encoding: str | None = None,
) -> Accepted:
    """Check the options, detect the format (unless given), read the header and
    the first row as `kind` says, and store the file under `directory`. Raises
    ValidationFailed for a bad option and FileRefused for a file that cannot be
    read; nothing is stored then."""
    handle, filename = received.handle, received.filename
    _check_options(fmt=fmt, encoding=encoding)
    if not fmt:
        fmt = _detect(handle, filename=filename, content_type=received.content_type)
    seen = _check_readable(
        handle, fmt=fmt, encoding=encoding, columns=kind.columns, required=kind.required
    )
    # The reader sniffs gzip by its magic bytes; the stored name follows the
    # client's, as support reads it.
    compressed = filename.lower().endswith(".gz")
    suffix = ".gz" if compressed else ""
    name = default_storage.save(
        f"{directory}/{uuid.uuid4().hex}.{fmt}{suffix}", File(handle)
    )
    return Accepted(
        name=name,
        size=received.size,
        sha256=received.sha256,
        format=fmt,
        encoding=(encoding or "").lower() or seen,
        compressed=compressed,
    )
