"""Request parsers of the API.

Django reads a multipart part's headers as strict UTF-8 and silently skips a part
whose headers are not: a file whose name a client sent in GBK or Latin-1 (raw
bytes in `Content-Disposition`, as older Windows clients do) arrived as "no
file". Here such a header block is re-encoded before Django reads it (UTF-8
first, then GBK, then Latin-1, which decodes anything), so the file arrives with
a readable name; Django's own sanitising of the name still applies.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.http import parse_header_parameters
from rest_framework import parsers

# Part headers larger than this are passed on as they are (Django refuses them).
_MAX_HEADERS = 64 * 1024
_CHUNK = 64 * 1024
_HEADER_ENCODINGS = ("utf-8", "gbk", "latin-1")


def _as_utf8(headers: bytes) -> bytes:
    for encoding in _HEADER_ENCODINGS:
        try:
            text = headers.decode(encoding)
        except UnicodeDecodeError:
            continue
        return headers if encoding == "utf-8" else text.encode("utf-8")
    return headers  # unreachable: Latin-1 decodes any byte


class _PartHeadersAsUtf8:
    """A file-like view of a multipart body whose part headers are UTF-8.

    Bodies pass through unchanged; only the bytes between a boundary line and the
    blank line after it are rewritten, and only when they are not UTF-8."""

    def __init__(self, stream, boundary: bytes) -> None:
        self._stream = stream
        self._delimiter = b"\r\n--" + boundary
        self._buffer = b""
        self._chunks = self._repaired()

    def _repaired(self) -> Iterator[bytes]:
        # A CRLF in front lets the first boundary (which has none) match too; those
        # two bytes are not passed on.
        pending, skip, in_headers, eof = b"\r\n", 2, False, False
        while True:
            if not eof:
                data = self._stream.read(_CHUNK)
                eof = not data
                pending += data
            progressed = True
            while progressed:
                progressed = False
                if in_headers:
                    end = pending.find(b"\r\n\r\n")
                    if end != -1:
                        out = _as_utf8(pending[:end]) + b"\r\n\r\n"
                        pending = pending[end + 4 :]
                        in_headers, progressed = False, True
                    elif eof or len(pending) > _MAX_HEADERS:
                        out, pending, in_headers = pending, b"", False  # as it is
                    else:
                        out = b""  # the headers go on in the next chunk
                else:
                    found = pending.find(self._delimiter)
                    if found != -1:
                        cut = found + len(self._delimiter)
                        in_headers = progressed = True
                    else:  # keep what could be the start of a boundary
                        keep = 0 if eof else len(self._delimiter) - 1
                        cut = max(len(pending) - keep, 0)
                    out, pending = pending[:cut], pending[cut:]
                if skip and out:
                    dropped = min(skip, len(out))
                    out, skip = out[dropped:], skip - dropped
                if out:
                    yield out
            if eof:
                if pending:
                    yield pending
                return

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, reading part headers that are not UTF-8."""

    def parse(self, stream, media_type=None, parser_context=None):
        _, params = parse_header_parameters(media_type or "")
        boundary = params.get("boundary", "")
        if stream is not None and boundary and boundary.isascii():
            stream = _PartHeadersAsUtf8(stream, boundary.encode("ascii"))
        return super().parse(stream, media_type, parser_context)
