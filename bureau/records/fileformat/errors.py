"""Errors of a furnishing file: per-row (the batch goes on) and whole-file."""

from __future__ import annotations

from dataclasses import dataclass

from bureau.core.identity_shapes import mask_free_text

# Row error codes (docs/records.md). ``REAGING`` needs the database and is checked
# by the ingest service, not here.
REQUIRED = "required"
INVALID_FORMAT = "invalid_format"
INVALID_CHECKSUM = "invalid_checksum"
INVALID_CHOICE = "invalid_choice"
OUT_OF_RANGE = "out_of_range"
INCONSISTENT = "inconsistent"
REAGING = "reaging"
FUTURE_DATE = "future_date"
TOO_OLD = "too_old"
UNKNOWN_COLUMN = "unknown_column"
ENCODING = "encoding"

ROW_ERROR_CODES = (
    REQUIRED,
    INVALID_FORMAT,
    INVALID_CHECKSUM,
    INVALID_CHOICE,
    OUT_OF_RANGE,
    INCONSISTENT,
    REAGING,
    FUTURE_DATE,
    TOO_OLD,
    UNKNOWN_COLUMN,
    ENCODING,
)

# File (batch) rejection codes.
FILE_REJECTION_CODES = (
    "empty_file",
    "missing_columns",
    "unknown_columns",
    "encoding",
    "unsupported_format",
    "invalid_format",
    "too_large",
    "file_changed",
)


@dataclass(frozen=True, slots=True)
class RowError:
    """One failed check of one row. ``value`` comes masked by its column
    (id_number, phone: ``mask_value_for_column``) and is masked here again by
    what it looks like, whatever its column and whoever built the error: an
    identity number in the name or as_of column is stored masked too."""

    row: int
    column: str
    code: str
    message: str
    value: str

    def __post_init__(self) -> None:
        if self.value:
            object.__setattr__(self, "value", mask_free_text(self.value))


class FileRejected(Exception):
    """The whole file is refused; maps to a problem body (code, detail, errors)."""

    def __init__(
        self, code: str, detail: str, errors: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.errors: dict[str, list[str]] = errors or {}

    def __repr__(self) -> str:
        return f"FileRejected(code={self.code!r}, detail={self.detail!r})"
