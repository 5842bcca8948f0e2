"""Identity numbers and phones: normalise, check, mask and hash.

Pure Python, no Django. Error messages never contain the raw value: callers
log them and send them back to members.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from datetime import date

from bureau.core.identity_shapes import (
    USCC_CHARSET,
    IdentityError,
    holds_identity,
    mask_free_text,
    resident_birth_date_ok,
    resident_id_check_char,
    uscc_check_char,
)

__all__ = (
    "ID_TYPES",
    "IdentityError",
    "holds_identity",
    "identity_hmac",
    "mask_free_text",
    "mask_identity",
    "mask_phone",
    "mask_value_for_column",
    "normalize_identity",
    "normalize_phone",
    "normalize_text",
    "phone_hmac",
    "resident_id_check_char",
    "resident_id_from_15",
    "uscc_check_char",
)

ID_TYPES = ("resident_id", "passport", "uscc", "other")

_PASSPORT_RE = re.compile(r"[A-Z0-9]{5,20}")
_PHONE_STRIP = str.maketrans("", "", " -")
# PRC mobiles are 13x-19x; +86 10... is a Beijing landline.
_MOBILE_SECOND_DIGITS = frozenset("3456789")
_MSG_PHONE = (
    "Phone must be an 11-digit PRC mobile or an E.164 number (+ and 8-15 digits)."
)
_DIGITS = frozenset("0123456789")

# ITU-T E.164 country codes of one and two digits; all others have three.
_CC1 = frozenset({"1", "7"})
_CC2 = frozenset(
    {
        *("20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43"),
        *("44", "45", "46", "47", "48", "49", "51", "52", "53", "54", "55", "56"),
        *("57", "58", "60", "61", "62", "63", "64", "65", "66", "81", "82", "84"),
        *("86", "90", "91", "92", "93", "94", "95", "98"),
    }
)


def normalize_text(value: str) -> str:
    """NFKC-normalise (full-width → ASCII) and strip surrounding whitespace."""
    if value.isascii():
        return value.strip()
    return unicodedata.normalize("NFKC", value).strip()


def _is_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def resident_id_from_15(number15: str) -> str:
    """Convert a legacy 15-digit resident id (19YY births) to 18 chars."""
    if len(number15) != 15 or not _is_digits(number15):
        raise IdentityError("invalid_format", "Legacy resident id must be 15 digits.")
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + resident_id_check_char(first17)


def _normalize_resident_id(value: str, today: date) -> str:
    if len(value) == 15 and value.isascii() and value.isdigit():
        value = resident_id_from_15(value)
    elif not (
        len(value) == 18
        and (value[17] == "X" or value[17] in _DIGITS)
        and value[:17].isascii()
        and value[:17].isdigit()
    ):
        raise IdentityError(
            "invalid_format",
            "Resident id must be 18 characters (17 digits and a digit or X).",
        )
    if not resident_birth_date_ok(value[6:14], today):
        raise IdentityError(
            "invalid_format", "Resident id contains an impossible birth date."
        )
    if resident_id_check_char(value[:17]) != value[17]:
        raise IdentityError("invalid_checksum", "Resident id check character is wrong.")
    return value


def _normalize_uscc(value: str) -> str:
    if len(value) != 18 or value[17] not in USCC_CHARSET:
        raise IdentityError(
            "invalid_format",
            "Credit code must be 18 characters of digits and capital letters.",
        )
    if uscc_check_char(value[:17]) != value[17]:
        raise IdentityError("invalid_checksum", "Credit code check character is wrong.")
    return value


def normalize_identity(id_type: str, raw: str, *, today: date | None = None) -> str:
    """Canonical form of an identity number, or raise ``IdentityError``.

    ``today`` bounds resident-id birth dates; it defaults to the current date.
    """
    id_type = normalize_text(id_type).lower()
    if id_type not in ID_TYPES:
        raise IdentityError(
            "invalid_choice", "Identity type is not one of " + ", ".join(ID_TYPES) + "."
        )
    value = normalize_text(raw).upper()
    if not value:
        raise IdentityError("required", "Identity number is required.")
    if id_type == "resident_id":
        return _normalize_resident_id(value, today or date.today())
    if id_type == "uscc":
        return _normalize_uscc(value)
    if id_type == "passport":
        if _PASSPORT_RE.fullmatch(value) is None:
            raise IdentityError(
                "invalid_format", "Passport number must be 5-20 letters or digits."
            )
        return value
    if len(value) > 64 or not value.isprintable() or any(ch.isspace() for ch in value):
        raise IdentityError(
            "invalid_format",
            "Identity number must be 1-64 printable characters without spaces.",
        )
    return value


def _mask_middle(value: str, head: int, tail: int) -> str:
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


def mask_identity(id_type: str, normalized: str) -> str:
    """Masked form safe to store and show: ``110105********002X``, ``E1****78``."""
    n = len(normalized)
    if n == 18 and id_type in ("resident_id", "uscc"):
        return _mask_middle(normalized, 6, 4)
    if n <= 4:
        return _mask_middle(normalized, 0, 1) if n > 1 else "*" * n
    return _mask_middle(normalized, 2, 2)


def normalize_phone(raw: str) -> str:
    """``+86`` + 11 digits for a PRC mobile, ``+`` + 8-15 digits for E.164."""
    value = normalize_text(raw).translate(_PHONE_STRIP)
    plus = value.startswith("+")
    digits = value[1:] if plus else value
    if _is_digits(digits):
        if digits.startswith("861") and digits[3:4] in _MOBILE_SECOND_DIGITS:
            if len(digits) == 13:
                return "+" + digits  # a PRC mobile, with or without the "+"
            raise IdentityError("invalid_format", _MSG_PHONE)
        if not plus and len(digits) == 11 and digits[0] == "1":
            return "+86" + digits
        if plus and 8 <= len(digits) <= 15 and digits[0] != "0":
            return "+" + digits
    raise IdentityError("invalid_format", _MSG_PHONE)


def _country_code_length(digits: str) -> int:
    if digits[:1] in _CC1:
        return 1
    if digits[:2] in _CC2:
        return 2
    return 3


def mask_phone(normalized: str) -> str:
    """Keep country code, first 3 and last 4 national digits: ``+86138****5678``."""
    if not normalized.startswith("+") or len(normalized) < 6:
        return mask_value_for_column("phone", normalized)
    digits = normalized[1:]
    cc = _country_code_length(digits)
    national = digits[cc:]
    hidden = max(len(national) - 7, 3)
    visible = len(national) - hidden
    tail = min(4, visible - visible // 2)
    return "+" + digits[:cc] + _mask_middle(national, visible - tail, tail)


def identity_hmac(key: bytes, id_type: str, normalized: str) -> str:
    """Hex HMAC-SHA256 of ``id_type:normalized`` (the person's lookup key)."""
    return hmac.digest(key, f"{id_type}:{normalized}".encode(), "sha256").hex()


def phone_hmac(key: bytes, normalized: str) -> str:
    """Hex HMAC-SHA256 of ``phone:normalized``."""
    return hmac.digest(key, f"phone:{normalized}".encode(), "sha256").hex()


_MASKED_COLUMNS = frozenset({"id_number", "phone"})


def mask_value_for_column(column: str, raw: str) -> str:
    """A value fit for an error report: identity numbers and phones masked.

    The id_number and phone columns are masked whole, valid or not: 12+ chars keep
    first 6 and last 4, shorter ones keep only the last 1-2 chars. Other columns
    are masked by what their value looks like (`mask_free_text`: an id number in
    the name column is masked too) and cut to 100 chars.
    """
    if column not in _MASKED_COLUMNS:
        # Masked before the cut, and on enough text that a number straddling the
        # cut is seen whole (a masked number keeps its first 6 chars in clear).
        return mask_free_text(raw[:200])[:100]
    value = normalize_text(raw)
    n = len(value)
    if n >= 12:
        return value[:6] + "*" * min(n - 10, 90) + value[-4:]
    if n <= 1:
        return "*" * n
    return _mask_middle(value, 0, 1 if n <= 4 else 2)
