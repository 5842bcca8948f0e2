"""Every message the checks of a furnishing file can give, as English templates.

Row errors and file refusals are built from these templates and stored in English
(the documented, stable text: docs/records.md). They are translated when shown,
in the reader's language: `parse` finds the template a stored text was filled
from and its parameters, and `localize` fills the template's translation with
them. So every stored row translates, old ones too, with nothing stored beside
the text; a text that matches no template (a wording of an older release) is
shown as stored. Building a message costs nothing on a valid row: it happens
only when a check fails, and most messages are constants.

Pure Python, like the rest of this package: callers pass Django's gettext.
Placeholders are named (``%(name)s``): python-format msgids, as makemessages
marks them, and a translation may reorder them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

from bureau.records.fileformat.errors import FILE_REJECTION_CODES

__all__ = (
    "MSGIDS",
    "TEMPLATES",
    "fill",
    "gettext_noop",
    "localize",
    "localize_errors",
    "localize_reason",
    "localize_rows",
    "parse",
)


def gettext_noop(message: str) -> str:
    """Marks a message for makemessages (the name it looks for)."""
    return message


# -- row errors (bureau/records/fileformat/validation.py) -------------------------
MSG_REQUIRED = gettext_noop("Is required.")
MSG_REQUIRED_DELINQUENT = gettext_noop("Is required when the account is delinquent.")
MSG_UNKNOWN_COLUMN = gettext_noop("Unknown column.")
MSG_ACTION = gettext_noop("Must be upsert or delete.")
MSG_ACCOUNT_NO = gettext_noop("Must be 1-64 characters of A-Z, a-z, 0-9, -, _ or /.")
# A name or account number that is an identity number or a phone: stored as
# given, it would keep the number in clear in the subject or the record.
MSG_NO_IDENTITY = gettext_noop(
    "Identity numbers and phones are not accepted in this column."
)
MSG_ONE_OF = gettext_noop("Must be one of %(choices)s.")
MSG_FUTURE = gettext_noop("Must not be in the future.")
MSG_TOO_OLD = gettext_noop("Must not be more than %(years)s years old.")
MSG_MAX_CHARS = gettext_noop("Must be at most %(count)s characters.")
MSG_CONTROL_CHARS = gettext_noop("Must not contain control characters.")
MSG_CURRENCY = gettext_noop("Must be an ISO 4217 code of 3 letters.")
MSG_HISTORY_CHARS = gettext_noop("Must use only the characters %(chars)s.")
MSG_ZERO_WHEN_CURRENT = gettext_noop("Must be 0 when status is current.")
MSG_POSITIVE_WHEN_OVERDUE = gettext_noop(
    "Must be greater than 0 when status is overdue."
)
MSG_ZERO_WHEN_SETTLED = gettext_noop("Must be 0 when status is settled or closed.")
MSG_POSITIVE_WHEN_DAYS = gettext_noop(
    "Must be greater than 0 when days_overdue is greater than 0."
)
MSG_NOT_AFTER_AS_OF = gettext_noop("Must not be after as_of.")
MSG_NOT_BEFORE_OPENED = gettext_noop("Must not be before opened_on.")
MSG_DELINQUENCY_AFTER_AS_OF = gettext_noop(
    "Must not be after as_of: delinquency cannot start after the date the row "
    "describes."
)
MSG_DATE = gettext_noop("Must be a date in YYYY-MM-DD form.")
MSG_DECIMAL = gettext_noop("Must be a decimal number such as 1234.56.")
MSG_NEGATIVE = gettext_noop("Must not be negative.")
MSG_DECIMAL_PLACES = gettext_noop("Must have at most 2 decimal places.")
MSG_INTEGER_DIGITS = gettext_noop(
    "Must have at most 14 digits before the decimal point."
)
MSG_WHOLE_DAYS = gettext_noop("Must be a whole number of days.")
MSG_BETWEEN = gettext_noop("Must be between %(low)s and %(high)s.")
# Checked at merge, against the stored record: written by SQL in
# bureau/records/services/merge.py, in these words.
MSG_REAGING = gettext_noop(
    "Would move first_delinquency_on later than the date already on file "
    "(re-aging is not allowed)."
)

# -- identity numbers and phones (bureau/records/identity.py, core/identity_shapes)
MSG_RESIDENT_15 = gettext_noop("Legacy resident id must be 15 digits.")
MSG_RESIDENT_SHAPE = gettext_noop(
    "Resident id must be 18 characters (17 digits and a digit or X)."
)
MSG_RESIDENT_BIRTH = gettext_noop("Resident id contains an impossible birth date.")
MSG_RESIDENT_CHECK = gettext_noop("Resident id check character is wrong.")
MSG_RESIDENT_BODY = gettext_noop("Resident id body must be 17 digits.")
MSG_USCC_SHAPE = gettext_noop(
    "Credit code must be 18 characters of digits and capital letters."
)
MSG_USCC_CHECK = gettext_noop("Credit code check character is wrong.")
MSG_USCC_BODY = gettext_noop("Credit code body must be 17 characters.")
MSG_USCC_ALPHABET = gettext_noop(
    "Credit code contains a character outside its alphabet."
)
MSG_ID_TYPE = gettext_noop("Identity type is not one of %(choices)s.")
MSG_ID_REQUIRED = gettext_noop("Identity number is required.")
MSG_PASSPORT = gettext_noop("Passport number must be 5-20 letters or digits.")
MSG_OTHER_ID = gettext_noop(
    "Identity number must be 1-64 printable characters without spaces."
)
MSG_PHONE = gettext_noop(
    "Phone must be an 11-digit PRC mobile or an E.164 number (+ and 8-15 digits)."
)

# -- unreadable rows (bureau/records/fileformat/reader.py) ------------------------
MSG_LINE_TOO_LONG = gettext_noop("Line is longer than %(limit)s bytes.")
MSG_LINE_ENCODING = gettext_noop("Line is not valid %(encoding)s text.")
MSG_ROW_CSV = gettext_noop("Row is not valid CSV (%(reason)s).")
MSG_ROW_CELLS = gettext_noop("Row has %(cells)s cells, header has %(width)s.")
MSG_LINE_JSON = gettext_noop("Line is not valid JSON.")
MSG_LINE_OBJECT = gettext_noop("Line is not a JSON object.")
MSG_JSON_VALUE = gettext_noop("Value must be a string, a number or null.")

# -- file refusals: FileRejected.detail, and its `errors` items -------------------
MSG_JSON_ARRAY = gettext_noop(
    "A JSON array is not accepted: send one object per line. Send CSV (.csv) or "
    "JSON Lines (.jsonl), optionally gzip-compressed."
)
MSG_UNRECOGNISED = gettext_noop(
    "The file format could not be recognised. Send CSV (.csv) or JSON Lines "
    "(.jsonl), optionally gzip-compressed."
)
MSG_UNKNOWN_FORMAT = gettext_noop(
    "Unknown format %(format)s. Send CSV (.csv) or JSON Lines (.jsonl), "
    "optionally gzip-compressed."
)
MSG_ENCODING_NAME = gettext_noop("Unsupported encoding; use utf-8 or gbk.")
MSG_ENCODING_FIELD = gettext_noop("must be utf-8 or gbk")
MSG_CORRUPT = gettext_noop("The compressed file is corrupt or truncated.")
MSG_TEXT_TOO_LARGE = gettext_noop(
    "The file expands to more than %(limit)s bytes of text; split it into "
    "smaller batches."
)
MSG_EXPANSION = gettext_noop(
    "The compressed file expands more than %(ratio)s times: it repeats itself; "
    "send the rows it means."
)
MSG_LINE_NUL = gettext_noop(
    "Line %(line)s contains NUL bytes: the file is damaged or is not text."
)
MSG_FILE_LINE_ENCODING = gettext_noop(
    "Line %(line)s is not valid %(encoding)s text: the file mixes encodings or is "
    "damaged. Save the whole file in one encoding (UTF-8 or GBK) and send it again."
)
MSG_TOO_MANY_ROWS = gettext_noop(
    "The file has more than %(limit)s rows; split it into smaller batches."
)
MSG_FILE_CHANGED = gettext_noop(
    "The stored file no longer matches the upload (sha256): the bureau's storage "
    "is damaged; nothing was applied. Tell the bureau."
)
MSG_UTF16 = gettext_noop("UTF-16 text is not supported; save the file as UTF-8.")
MSG_EMPTY = gettext_noop("The file is empty.")
MSG_NUL = gettext_noop("The file contains NUL bytes; save it as UTF-8 or GBK text.")
MSG_NO_HEADER = gettext_noop("The file has no header row.")
MSG_HEADER_CSV = gettext_noop("The header row is not valid CSV.")
MSG_HEADER_ENCODING = gettext_noop("The header row is not valid UTF-8 or GBK text.")
MSG_HEADER_TOO_LONG = gettext_noop("The header row is too long.")
MSG_SEPARATOR = gettext_noop("Columns must be separated by commas.")
MSG_SINGLE_COLUMN = gettext_noop("the header row has a single column")
MSG_NOT_A_HEADER = gettext_noop(
    "The first row is not a header row: it names no known column."
)
MSG_MISSING_COLUMN = gettext_noop("missing column: %(name)s")
MSG_COLUMN_TWICE = gettext_noop("The header row names a column twice.")
MSG_DUPLICATE_COLUMN = gettext_noop("duplicate column: %(name)s")
MSG_UNNAMED_COLUMN = gettext_noop("column %(index)s has no name")
MSG_UNKNOWN_COLUMN_NAMED = gettext_noop("unknown column: %(name)s")
MSG_UNKNOWN_COLUMNS = gettext_noop("The header row names unknown columns.")
MSG_MISSING_COLUMNS = gettext_noop("The header row lacks required columns.")
# Raised by the file intake (bureau/records/intake.py) and the batches API, in
# these words.
MSG_NO_DATA_ROWS = gettext_noop("The file has no data rows.")
MSG_UPLOAD_TOO_LARGE = gettext_noop("The file is larger than %(limit)s bytes.")

# -- a batch's failure_reason (bureau/records/services/ingest.py, tasks.py) --------
MSG_STRICT_FAILED = gettext_noop(
    "strict: %(rejected)s of %(total)s rows rejected; nothing was written (see "
    "the errors)"
)
MSG_DATABASE_DOWN = gettext_noop("database unavailable; retries exhausted")
MSG_INTERNAL = gettext_noop("internal error while ingesting (logged)")
# "<code>: <detail>" of a refused file: the code stays, the detail is translated.
# Not a template to match (it would match anything with a colon).
CODE_AND_DETAIL = gettext_noop("%(code)s: %(detail)s")

TEMPLATES: tuple[str, ...] = tuple(
    value for name, value in globals().items() if name.startswith("MSG_")
)
# Every msgid of this module: what the catalogs must translate.
MSGIDS: tuple[str, ...] = (*TEMPLATES, CODE_AND_DETAIL)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_FIXED = frozenset(t for t in TEMPLATES if _PLACEHOLDER.search(t) is None)


def _pattern(template: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(template)  # literal, name, literal, name, ..., literal
    return re.compile(
        "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>.*?)"
            for index, part in enumerate(parts)
        ),
        re.DOTALL,
    )


# Longest first: where two could match, the more specific (more literal) wins.
_PATTERNS = tuple(
    (template, _pattern(template))
    for template in sorted(set(TEMPLATES) - _FIXED, key=len, reverse=True)
)


# Distinct texts a download remembers the translation of.
_ROWS_CACHE = 10_000


def fill(template: str, **params: object) -> str:
    """A template with its parameters: the English text that is stored."""
    return template % params


@lru_cache(maxsize=4096)
def parse(text: str) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """(template, parameters) a stored text was filled from, or None."""
    if text in _FIXED:
        return text, ()
    for template, pattern in _PATTERNS:
        found = pattern.fullmatch(text)
        if found is not None:
            return template, tuple(found.groupdict().items())
    return None


def localize(text: str, gettext: Callable[[str], str]) -> str:
    """A stored message in the active language (`gettext`'s); as stored when no
    template matches it or its translation is unusable."""
    found = parse(text)
    if found is None:
        return text
    template, params = found
    translated = gettext(template)
    if not params:
        return translated
    try:
        return translated % dict(params)
    except (KeyError, TypeError, ValueError):
        return text


def localize_reason(text: str, gettext: Callable[[str], str]) -> str:
    """A batch's failure_reason in the active language: a reason of its own, or
    "<code>: <detail>" of a refused file (the code kept, the detail translated)."""
    if parse(text) is not None:
        return localize(text, gettext)
    code, colon, detail = text.partition(": ")
    if colon and code in FILE_REJECTION_CODES and parse(detail) is not None:
        try:
            return gettext(CODE_AND_DETAIL) % {
                "code": code,
                "detail": localize(detail, gettext),
            }
        except (KeyError, TypeError, ValueError):
            return text
    return text


def localize_errors(
    errors: dict[str, list[str]], gettext: Callable[[str], str]
) -> dict[str, list[str]]:
    """A refusal's per-field messages localized (the field names stay)."""
    return {
        field: [localize(problem, gettext) for problem in problems]
        for field, problems in errors.items()
    }


def localize_rows(
    rows: Iterable[tuple], gettext: Callable[[str], str], *, column: int
) -> Iterator[tuple]:
    """Rows (tuples) with the message at index `column` localized. A download
    repeats a few texts many times: each is translated once."""
    shown: dict[str, str] = {}
    for row in rows:
        text = row[column]
        localized = shown.get(text)
        if localized is None:
            localized = localize(text, gettext)
            if len(shown) < _ROWS_CACHE:
                shown[text] = localized
        yield (*row[:column], localized, *row[column + 1 :])
