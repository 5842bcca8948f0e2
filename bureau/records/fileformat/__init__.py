"""Furnishing files: stream rows out of CSV / JSON Lines, then check each row."""

from bureau.records.fileformat.errors import FileRejected, RowError
from bureau.records.fileformat.reader import (
    COLUMNS,
    REQUIRED_COLUMNS,
    RowStream,
    detect_format,
    open_rows,
    verify_file,
)
from bureau.records.fileformat.validation import CleanRow, RowValidator

__all__ = (
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "CleanRow",
    "FileRejected",
    "RowError",
    "RowStream",
    "RowValidator",
    "detect_format",
    "open_rows",
    "verify_file",
)
