"""Streaming reader of furnishing files (CSV or JSON Lines, plain or gzip).

The file is read in blocks of about 64 KiB that end on a line break, so memory
stays bounded whatever the file size. Each block is decoded at once; only a
block that fails to decode is decoded again line by line, so one bad line
becomes one ``encoding`` row error and the rest of the file goes on.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import posixpath
import re
import zlib
from collections.abc import Iterator
from typing import BinaryIO, Protocol

from bureau.records.columns import FILE_COLUMNS, REQUIRED_COLUMNS
from bureau.records.fileformat import messages as M
from bureau.records.fileformat.errors import (
    ENCODING,
    INVALID_FORMAT,
    UNKNOWN_COLUMN,
    FileRejected,
    RowError,
)
from bureau.records.identity import mask_value_for_column, normalize_text


class ByteSource(Protocol):
    """What the reader needs of the caller's file: bytes by the block. An open
    file, an upload and a stored FieldFile all serve."""

    def read(self, size: int = ..., /) -> bytes: ...


__all__ = (
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "RowStream",
    "detect_format",
    "open_rows",
    "verify_file",
)

# The furnishing file's columns, in header order, and those it must have: from the
# column spec.
COLUMNS = FILE_COLUMNS
_COLUMN_SET = frozenset(COLUMNS)

Row = tuple[int, dict[str, str] | None, list[RowError]]

_BLOCK = 1 << 16
_MAX_LINE = 1 << 20
_MSG_LINE_TOO_LONG = M.fill(M.MSG_LINE_TOO_LONG, limit=_MAX_LINE)
# Expansion is judged only past this much text: small files may compress well.
_EXPANSION_FLOOR = 16 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

_ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "gb18030": "gb18030",
    "cp936": "gb18030",
}
# Name reported on RowStream.encoding for each codec used.
_ENCODING_NAMES = {"utf-8": "utf-8", "gb18030": "gbk"}

_CSV_EXTENSIONS = frozenset({".csv"})
_JSONL_EXTENSIONS = frozenset({".jsonl", ".ndjson", ".json"})
_CSV_TYPES = frozenset(
    {
        "text/csv",
        "application/csv",
        "text/x-csv",
        "application/x-csv",
        "text/comma-separated-values",
    }
)
_JSONL_TYPES = frozenset(
    {
        "application/jsonl",
        "application/x-jsonlines",
        "application/jsonlines",
        "application/x-ndjson",
        "application/ndjson",
        "application/json",
        "text/jsonl",
    }
)
_DIGIT_RUN = re.compile(r"[0-9]{6,}")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


_JSON = json.JSONDecoder(
    parse_float=str, parse_int=str, parse_constant=_reject_constant
)


def detect_format(filename: str, content_type: str | None, head: bytes) -> str:
    """Return "csv" or "jsonl": by extension, else content type, else content."""
    name = (filename or "").strip().lower()
    if name.endswith(".gz"):
        name = name[:-3]
    ext = posixpath.splitext(name)[1]
    if ext in _CSV_EXTENSIONS:
        return "csv"
    if ext in _JSONL_EXTENSIONS:
        return "jsonl"
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ctype in _CSV_TYPES:
        return "csv"
    if ctype in _JSONL_TYPES:
        return "jsonl"
    return _sniff(head)


def _sniff(head: bytes) -> str:
    data = head
    if data[:2] == _GZIP_MAGIC:
        try:
            data = zlib.decompressobj(wbits=31).decompress(head, _BLOCK)
        except zlib.error:
            data = b""
    if data.startswith(_UTF8_BOM):
        data = data[3:]
    data = data.lstrip()
    if data[:1] == b"{":
        return "jsonl"
    if data[:1] == b"[":
        raise FileRejected(
            "unsupported_format",
            M.MSG_JSON_ARRAY,
        )
    first_line = data.split(b"\n", 1)[0]
    if data and b"\x00" not in data and b"," in first_line:
        return "csv"
    raise FileRejected("unsupported_format", M.MSG_UNRECOGNISED)


def open_rows(
    fileobj: ByteSource,
    *,
    fmt: str,
    encoding: str | None = None,
    columns: tuple[str, ...] = COLUMNS,
    required: tuple[str, ...] = REQUIRED_COLUMNS,
) -> RowStream:
    """Open a binary file (at position 0) as a stream of rows.

    ``encoding`` is "utf-8", "gbk" or None to detect. Raises ``FileRejected``
    when the file cannot be read at all (empty, bad header, undecodable).
    """
    if fmt not in ("csv", "jsonl"):
        raise FileRejected(
            "unsupported_format", M.fill(M.MSG_UNKNOWN_FORMAT, format=repr(fmt[:20]))
        )
    codec = None
    if encoding:
        codec = _ENCODINGS.get(encoding.strip().lower().replace("_", "-"))
        if codec is None:
            raise FileRejected(
                "encoding",
                M.MSG_ENCODING_NAME,
                {"encoding": [M.MSG_ENCODING_FIELD]},
            )
    counter, binary = _binary_of(fileobj)
    return RowStream(
        binary, counter, fmt=fmt, codec=codec, columns=columns, required=required
    )


def _binary_of(fileobj: ByteSource, *, digest: bool = False):
    """(counter, binary): the caller's bytes counted, decompressed when gzip."""
    counter = _CountingReader(fileobj, digest=digest)
    buffered = io.BufferedReader(counter, _BLOCK)
    binary: BinaryIO = buffered
    if buffered.peek(2)[:2] == _GZIP_MAGIC:
        binary = gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[assignment]
    return counter, binary


def _read_block(binary: BinaryIO) -> tuple[bytes, bool]:
    """Next block (about 64 KiB) ending on a line break; flag True when its last
    line was cut at ``_MAX_LINE`` (the rest of that line is dropped)."""
    try:
        block = binary.read(_BLOCK)
        if not block or block[-1:] == b"\n":
            return block, False
        tail = binary.readline(_MAX_LINE)
        block += tail
        if len(tail) < _MAX_LINE or tail[-1:] == b"\n":
            return block, False
        while True:  # drop the rest of an over-long line
            more = binary.readline(_MAX_LINE)
            if not more or more[-1:] == b"\n":
                return block, True
    except (OSError, EOFError, zlib.error):
        raise FileRejected("invalid_format", M.MSG_CORRUPT) from None


def _first_codec(block: bytes) -> str | None:
    """The codec a first non-ASCII block decides on: utf-8, else gb18030, else
    None (the block decodes as neither)."""
    for codec in ("utf-8", "gb18030"):
        try:
            block.decode(codec)
        except UnicodeDecodeError:
            continue
        return codec
    return None


def _first_line_where(block: bytes, test) -> int:
    """Index of the first line of `block` for which `test(line)` is true."""
    for index, raw in enumerate(_split_lines(block)):
        if test(raw):
            return index
    return 0


def _undecodable(codec: str):
    def test(raw: bytes) -> bool:
        try:
            raw.decode(codec)
        except UnicodeDecodeError:
            return True
        return False

    return test


def verify_file(
    fileobj: ByteSource,
    *,
    fmt: str,
    encoding: str | None,
    max_text_bytes: int,
    max_rows: int,
    max_expansion: float = 0,
    sha256: str = "",
) -> tuple[int, str]:
    """Read a whole furnishing file through, in the blocks `RowStream` reads, without
    parsing its rows: it decompresses to the end (not truncated, not corrupt), every
    line decodes in one encoding, no NUL byte, within `max_text_bytes` of text and
    `max_rows` lines of data, a gzip expanding at most `max_expansion` times (0: no
    bound), and (when given) its bytes still have `sha256`. Raises
    FileRejected at the first problem; the ingest calls it before writing anything,
    so a file that fails applies nothing. Returns (lines, encoding name)."""
    codec = _ENCODINGS.get((encoding or "").strip().lower().replace("_", "-"))
    max_lines = max_rows + (fmt == "csv")  # and the header line
    counter, binary = _binary_of(fileobj, digest=bool(sha256))
    text_bytes = lines = 0
    first = True
    try:
        while True:
            block, cut = _read_block(binary)
            if not block:
                break
            if first:
                first = False
                if block.startswith(_UTF8_BOM):
                    block, codec = block[3:], "utf-8"  # as RowStream: a BOM settles it
            text_bytes += len(block)
            if text_bytes > max_text_bytes:
                raise FileRejected(
                    "too_large",
                    M.fill(M.MSG_TEXT_TOO_LARGE, limit=max_text_bytes),
                )
            if (
                max_expansion
                and text_bytes > _EXPANSION_FLOOR
                and text_bytes > max_expansion * counter.bytes_read
            ):
                # A furnishing file compresses some ten times; hundreds of
                # times is a file of repeats (a zip bomb): stop it early.
                raise FileRejected(
                    "too_large",
                    M.fill(M.MSG_EXPANSION, ratio=f"{max_expansion:g}"),
                )
            if codec is None and not block.isascii():
                codec = _first_codec(block) or "utf-8"
            if cut:  # the over-long line is a row error, read with replacement
                block = block[: block.rfind(b"\n") + 1]
            if b"\x00" in block:
                at = lines + _first_line_where(block, lambda raw: b"\x00" in raw)
                raise FileRejected(
                    "encoding",
                    M.fill(M.MSG_LINE_NUL, line=at + 1),
                )
            try:
                block.decode(codec or "utf-8")
            except UnicodeDecodeError:
                name = _ENCODING_NAMES[codec or "utf-8"]
                at = lines + _first_line_where(block, _undecodable(codec or "utf-8"))
                raise FileRejected(
                    "encoding",
                    M.fill(M.MSG_FILE_LINE_ENCODING, line=at + 1, encoding=name),
                ) from None
            ends_open = bool(block) and block[-1:] != b"\n"  # last line, no break
            lines += block.count(b"\n") + ends_open + cut
            if lines > max_lines:
                raise FileRejected(
                    "too_large",
                    M.fill(M.MSG_TOO_MANY_ROWS, limit=max_rows),
                )
        if sha256 and counter.sha256.hexdigest() != sha256:
            raise FileRejected(
                "file_changed",
                M.MSG_FILE_CHANGED,
            )
    finally:
        if isinstance(binary, gzip.GzipFile):
            binary.close()
    return lines, _ENCODING_NAMES[codec or "utf-8"]


class _CountingReader(io.RawIOBase):
    """Counts (and may digest) the bytes taken from the caller's file; never
    closes it."""

    def __init__(self, raw: ByteSource, *, digest: bool = False) -> None:
        self._raw = raw
        self.bytes_read = 0
        self.sha256 = hashlib.sha256() if digest else None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.bytes_read += n
        if self.sha256 is not None:
            self.sha256.update(data)
        return n


def _split_lines(block: bytes) -> list[bytes]:
    """Split on b"\\n" only (keeping it): quoted CSV fields may hold a lone \\r."""
    parts = block.split(b"\n")
    last = parts.pop()
    lines = [part + b"\n" for part in parts]
    if last:
        lines.append(last)
    return lines


def _safe_name(name: str) -> str:
    """A column name fit for an error body: cut, and digit runs masked.

    A file without a header row has data (maybe identity numbers) as names.
    """
    name = name[:64]
    if _DIGIT_RUN.search(name):
        return mask_value_for_column("id_number", name)
    return name


def _normalize_header(name: str) -> str:
    return normalize_text(name).lower()


class RowStream:
    """Iterator of ``(row_number, values | None, errors)``; row 1 = first data row.

    ``values`` is None when the row could not be read (its errors say why).
    Iterating may still raise ``FileRejected`` (a corrupt gzip stream).
    Attributes: ``columns`` (header, or every column for JSON Lines),
    ``encoding`` ("utf-8" or "gbk"; detection may settle on the first
    non-ASCII block), ``bytes_read`` (from the caller's file, compressed).
    """

    def __init__(
        self,
        binary: BinaryIO,
        counter: _CountingReader,
        *,
        fmt: str,
        codec: str | None,
        columns: tuple[str, ...] = COLUMNS,
        required: tuple[str, ...] = REQUIRED_COLUMNS,
    ) -> None:
        self.format = fmt
        # The file's allowed and required columns: furnishing files by default;
        # other uploads (screenings) pass their own.
        self._allowed = tuple(columns)
        self._required = tuple(required)
        self._binary = binary
        self._counter = counter
        self._codec = codec
        self.encoding = _ENCODING_NAMES[codec or "utf-8"]
        # Set by the line generator while it hands out a line that failed to
        # decode or was too long; read and cleared by the row parser. The csv
        # module pulls lines only for the record it builds, so a flag always
        # belongs to the record being read.
        self._line_error: tuple[str, str] | None = None
        self._first_block = self._open_first_block()
        self._lines = self._iter_lines()
        self.columns: list[str]
        if fmt == "csv":
            self._reader = csv.reader(self._lines, strict=True)
            self.columns = self._read_header()
            self._rows: Iterator[Row] = self._iter_csv()
        else:
            self.columns = list(self._allowed)
            self._rows = self._iter_jsonl()

    @property
    def bytes_read(self) -> int:
        return self._counter.bytes_read

    def __iter__(self) -> RowStream:
        return self

    def __next__(self) -> Row:
        return next(self._rows)

    def close(self) -> None:
        """Release the gzip wrapper (the caller's file stays open)."""
        if isinstance(self._binary, gzip.GzipFile):
            self._binary.close()

    # -- bytes to lines -----------------------------------------------------

    def _read_block(self) -> tuple[bytes, bool]:
        return _read_block(self._binary)

    def _open_first_block(self) -> tuple[bytes, bool]:
        block, cut = self._read_block()
        if block[:2] in _UTF16_BOMS:
            raise FileRejected("encoding", M.MSG_UTF16)
        if block.startswith(_UTF8_BOM):
            block = block[3:]
            self._codec = "utf-8"  # a BOM settles it, whatever was declared
            self.encoding = "utf-8"
        while block and not block.strip():
            block, cut = self._read_block()
        if not block:
            raise FileRejected("empty_file", M.MSG_EMPTY)
        if b"\x00" in block:
            raise FileRejected("encoding", M.MSG_NUL)
        return block, cut

    def _decide_codec(self, block: bytes) -> None:
        """Pick utf-8 or gb18030 for a first non-ASCII block (whole lines)."""
        codec = _first_codec(block)
        if codec is None:
            lines = _split_lines(block)
            codec = min(
                ("utf-8", "gb18030"), key=lambda c: _count_undecodable(lines, c)
            )
        self._codec = codec
        self.encoding = _ENCODING_NAMES[codec]

    @property
    def encoding_decided(self) -> bool:
        """False while every byte read was ASCII and no encoding was declared."""
        return self._codec is not None

    def _iter_lines(self) -> Iterator[str]:
        block, cut = self._first_block
        self._first_block = (b"", False)
        while block:
            if self._codec is None and not block.isascii():
                self._decide_codec(block)
            codec = self._codec or "utf-8"
            if cut:
                split_at = block.rfind(b"\n") + 1
                block, long_line = block[:split_at], block[split_at:]
            yield from self._decode_block(block, codec)
            if cut:
                self._line_error = (
                    INVALID_FORMAT,
                    _MSG_LINE_TOO_LONG,
                )
                yield long_line.decode(codec, "replace") + "\n"
            block, cut = self._read_block()

    def _decode_block(self, block: bytes, codec: str) -> Iterator[str]:
        try:
            text = block.decode(codec)
        except UnicodeDecodeError:
            message = M.fill(M.MSG_LINE_ENCODING, encoding=self.encoding)
            for raw in _split_lines(block):
                try:
                    line = raw.decode(codec)
                except UnicodeDecodeError:
                    self._line_error = (ENCODING, message)
                    line = raw.decode(codec, "replace")
                yield line
            return
        lines = text.split("\n")
        last = lines.pop()
        yield from [line + "\n" for line in lines]
        if last:
            yield last

    # -- CSV ----------------------------------------------------------------

    def _read_header(self) -> list[str]:
        while True:
            self._line_error = None
            try:
                cells = next(self._reader)
            except StopIteration:
                raise FileRejected("empty_file", M.MSG_NO_HEADER) from None
            except csv.Error:
                raise FileRejected("invalid_format", M.MSG_HEADER_CSV) from None
            if any(cells):
                break
        if self._line_error is not None:
            if self._line_error[0] == ENCODING:
                raise FileRejected("encoding", M.MSG_HEADER_ENCODING)
            raise FileRejected("invalid_format", M.MSG_HEADER_TOO_LONG)
        names = [_normalize_header(cell) for cell in cells]
        _check_header(names, allowed=self._allowed, required=self._required)
        return names

    def _iter_csv(self) -> Iterator[Row]:
        reader = self._reader
        columns = self.columns
        width = len(columns)
        row = 0
        while True:
            self._line_error = None
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                row += 1
                problem = self._line_error or (
                    INVALID_FORMAT,
                    M.fill(M.MSG_ROW_CSV, reason=exc),
                )
                yield _unreadable(row, *problem)
                continue
            if self._line_error is not None:
                row += 1
                yield _unreadable(row, *self._line_error)
                continue
            if len(cells) != width:
                if not "".join(cells).strip():
                    continue  # blank line
                row += 1
                message = M.fill(M.MSG_ROW_CELLS, cells=len(cells), width=width)
                yield _unreadable(row, INVALID_FORMAT, message)
                continue
            if not any(cells):
                continue  # empty row such as ",,,,"
            row += 1
            yield row, dict(zip(columns, cells, strict=True)), []

    # -- JSON Lines ---------------------------------------------------------

    def _iter_jsonl(self) -> Iterator[Row]:
        decode = _JSON.decode
        row = 0
        for line in self._lines:
            if self._line_error is None and (not line or line.isspace()):
                continue
            row += 1
            if self._line_error is not None:
                yield _unreadable(row, *self._line_error)
                self._line_error = None
                continue
            try:
                obj = decode(line)
            except (ValueError, RecursionError):
                yield _unreadable(row, INVALID_FORMAT, M.MSG_LINE_JSON)
                continue
            if type(obj) is not dict:
                yield _unreadable(row, INVALID_FORMAT, M.MSG_LINE_OBJECT)
                continue
            values, errors = _json_values(row, obj)
            yield row, (None if errors else values), errors


def _unreadable(row: int, code: str, message: str) -> Row:
    return row, None, [RowError(row, "", code, message, "")]


def _json_values(row: int, obj: dict) -> tuple[dict[str, str], list[RowError]]:
    values: dict[str, str] = {}
    errors: list[RowError] = []
    for key, value in obj.items():
        column = key if key in _COLUMN_SET else _normalize_header(key)
        kind = type(value)
        if column not in _COLUMN_SET:
            shown = value if kind is str else json.dumps(value)
            errors.append(
                RowError(
                    row,
                    _safe_name(key),
                    UNKNOWN_COLUMN,
                    M.MSG_UNKNOWN_COLUMN,
                    mask_value_for_column("id_number", shown),
                )
            )
        elif kind is str:
            values[column] = value
        elif value is None:
            values[column] = ""
        else:
            errors.append(
                RowError(
                    row,
                    column,
                    INVALID_FORMAT,
                    M.MSG_JSON_VALUE,
                    "",
                )
            )
    return values, errors


def _count_undecodable(lines: list[bytes], codec: str) -> int:
    bad = 0
    for raw in lines:
        try:
            raw.decode(codec)
        except UnicodeDecodeError:
            bad += 1
    return bad


def _check_header(
    names: list[str],
    *,
    allowed: tuple[str, ...] = COLUMNS,
    required: tuple[str, ...] = REQUIRED_COLUMNS,
) -> None:
    allowed_set = frozenset(allowed)
    if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
        raise FileRejected(
            "invalid_format",
            M.MSG_SEPARATOR,
            {"columns": [M.MSG_SINGLE_COLUMN]},
        )
    known = [name for name in names if name in allowed_set]
    if not known:
        raise FileRejected(
            "missing_columns",
            M.MSG_NOT_A_HEADER,
            {"columns": [M.fill(M.MSG_MISSING_COLUMN, name=name) for name in required]},
        )
    seen: set[str] = set()
    duplicates: list[str] = []
    for name in known:
        if name in seen:
            duplicates.append(name)
        seen.add(name)
    if duplicates:
        raise FileRejected(
            "invalid_format",
            M.MSG_COLUMN_TWICE,
            {
                "columns": [
                    M.fill(M.MSG_DUPLICATE_COLUMN, name=name)
                    for name in dict.fromkeys(duplicates)
                ]
            },
        )
    unknown = [
        M.fill(M.MSG_UNNAMED_COLUMN, index=i)
        if not name
        else M.fill(M.MSG_UNKNOWN_COLUMN_NAMED, name=_safe_name(name))
        for i, name in enumerate(names, start=1)
        if name not in allowed_set
    ]
    if unknown:
        raise FileRejected(
            "unknown_columns",
            M.MSG_UNKNOWN_COLUMNS,
            {"columns": unknown},
        )
    missing = [name for name in required if name not in seen]
    if missing:
        raise FileRejected(
            "missing_columns",
            M.MSG_MISSING_COLUMNS,
            {"columns": [M.fill(M.MSG_MISSING_COLUMN, name=name) for name in missing]},
        )
