"""Identity numbers and phones inside text: check characters, finding, masking.

Pure Python, no Django, so that every layer shares one definition: the log filter
(core), the audit trail, the furnishing-file rules and the services that keep or
refuse text a person typed. Three strengths, for three uses:

- `mask_free_text` (text that must be kept: dispute claims and notes, subject
  statements, row-error values, file names, log lines) masks anything *shaped*
  like a number or phone: digit runs of 15 and more (an 18-char id, a legacy
  15-digit one, a bank card), PRC mobiles (1[3-9] + 9 digits, with or without
  86), `+` and 8-15 digits (E.164), ids and mobiles written in groups
  ("138 1234 5678"), checksum-valid credit codes. Letters do not end a number
  ("ID110105…" is masked); full-width digits count. A false positive costs a
  few stars.
- `holds_identity` (identifiers a person types and Bureau stores as given:
  consent references, Idempotency-Keys, names and account numbers in a file)
  finds only what Bureau itself accepts as one: an 18-char resident id with a
  real birth date and the right check character, a PRC mobile, an E.164 number,
  a checksum-valid credit code with a letter in it. Long contract and account
  numbers that are none of these pass (15-digit legacy ids: see `_classify`).
- `contains_identity_word` (audit details, and the older refusals of usernames,
  key names, member codes and webhook URLs) is the shape of the first, but only
  as a whole word (no letter or digit either side): a digit run inside a hex
  digest is not one.
"""

from __future__ import annotations

import re
from datetime import date
from operator import mul

__all__ = (
    "IdentityError",
    "contains_identity_word",
    "holds_identity",
    "mask_free_text",
    "redact_free_text",
    "resident_birth_date_ok",
    "resident_id_check_char",
    "uscc_check_char",
)


class IdentityError(ValueError):
    """An identity number or phone is unusable; ``message`` is safe to show."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# -- check characters (GB 11643-1999, GB 32100-2015) ---------------------------------

# GB 11643-1999 (ISO 7064 MOD 11-2).
_RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_CHECK = "10X98765432"
_RESIDENT_ZERO = ord("0") * sum(_RESIDENT_WEIGHTS)
RESIDENT_MIN_YEAR = 1880

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_CHARSET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _is_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def resident_id_check_char(first17: str) -> str:
    """Check character of an 18-char resident id from its first 17 digits."""
    if len(first17) != 17 or not _is_digits(first17):
        raise IdentityError("invalid_format", "Resident id body must be 17 digits.")
    # Iterating bytes gives code points; remove ord("0") per weighted digit.
    total = sum(map(mul, first17.encode(), _RESIDENT_WEIGHTS)) - _RESIDENT_ZERO
    return _RESIDENT_CHECK[total % 11]


def uscc_check_char(first17: str) -> str:
    """Check character of an 18-char unified social credit code."""
    if len(first17) != 17:
        raise IdentityError("invalid_format", "Credit code body must be 17 characters.")
    try:
        total = sum(
            _USCC_VALUE[ch] * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True)
        )
    except KeyError:
        raise IdentityError(
            "invalid_format", "Credit code contains a character outside its alphabet."
        ) from None
    return USCC_CHARSET[(31 - total % 31) % 31]


def resident_birth_date_ok(yyyymmdd: str, today: date) -> bool:
    """A birth date a living resident can have: a real date, 1880 to today."""
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return born.year >= RESIDENT_MIN_YEAR and born <= today


def _valid_resident(number: str) -> bool:
    """18 chars: birth date and check character (what normalize_identity takes)."""
    number = number.upper()
    return (
        number[:17].isdigit()
        and resident_id_check_char(number[:17]) == number[17]
        and resident_birth_date_ok(number[6:14], date.today())
    )


def _valid_uscc(code: str) -> bool:
    return all(ch in _USCC_VALUE for ch in code) and (
        uscc_check_char(code[:17]) == code[17]
    )


# -- finding them in text -------------------------------------------------------------

# Full-width forms (U+FF01-FF5E) are ASCII moved up by 0xFEE0; folding them char
# for char keeps every offset, so spans found in the folded text mask the original.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

# Candidates, within a cluster of digits (with "+", "X", spaces and hyphens):
# the clusters are found first by a pattern that starts with a character class,
# which the regex engine scans for quickly; the alternatives below, with their
# look-behinds, then run on the few clusters only.
_CLUSTER = re.compile(r"[+0-9][0-9Xx +\-]{8,}")
_NUMBERS = re.compile(
    r"""
      (?P<plus>\+[ -]?[0-9](?:[ -]?[0-9]){7,14})(?![0-9])
    | (?<![0-9])(?P<mobile>(?:86[ -])?1[3-9][0-9][ -][0-9]{4}[ -][0-9]{4})(?![0-9])
    | (?<![0-9])(?P<resident>[0-9]{6}[ -][0-9]{8}[ -][0-9]{3}[0-9Xx])(?![0-9])
    | (?<![0-9])(?P<run>[0-9]{11,}[Xx]?)
    """,
    re.VERBOSE,
)
# 18 capitals and digits; whole words only (checked on each match).
_CREDIT_CODE = re.compile(r"[0-9A-Z][0-9A-Z]{17}")
_SEPARATORS = str.maketrans("", "", " -+")
# Every candidate holds a digit; most text (names, words) holds none.
_DIGIT = re.compile("[0-9\uff10-\uff19]")
# Every number candidate but "+…" holds 11 digits in a row or a grouped mobile or
# id: a quick search (one character class first) before the clusters.
_LIKELY = re.compile(
    r"[0-9](?:[0-9]{10}|[0-9]{2}[ -][0-9]{4}[ -][0-9]|[0-9]{5}[ -][0-9]{8})"
)
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
_MOBILE_SECOND = frozenset("3456789")
_PHONE, _NUMBER = "phone", "number"


def _is_mobile(digits: str) -> bool:
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return len(digits) == 11 and digits[0] == "1" and digits[1] in _MOBILE_SECOND


def _classify(kind: str, value: str, *, strict: bool) -> str | None:
    """What a candidate is (_PHONE, _NUMBER) at this strength, or None."""
    digits = value.translate(_SEPARATORS)
    if kind == "plus":
        return _PHONE if not strict or digits[0] != "0" else None
    if kind == "mobile":
        return _PHONE
    if kind == "resident":
        return _NUMBER if not strict or _valid_resident(digits) else None
    if _is_mobile(digits):
        return _PHONE
    if not strict:
        return _NUMBER if len(digits) >= 15 else None
    # Strict: only an 18-char id Bureau would accept. A 15-digit legacy number has
    # no check character: even checking its province, about 1 in 80 arbitrary
    # 15-digit account or contract numbers would pass for one, and those cards
    # have been void since 2013. Masking (the loose rule) still covers them.
    if len(digits) == 18:
        return _NUMBER if _valid_resident(digits) else None
    return None


def _folded(text: str) -> str:
    if text.isascii() or _FULL_WIDTH.search(text) is None:
        return text
    return text.translate(_FOLD)


def _is_word_char(ch: str) -> bool:
    """Letters and digits of ASCII (after folding) continue a word; CJK does not."""
    return ch.isascii() and ch.isalnum()


def _spans(
    text: str, *, strict: bool = False, word: bool = False
) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each number or phone in `text`."""
    if _DIGIT.search(text) is None:
        return []
    folded = _folded(text)
    length = len(folded)

    def is_word(start: int, end: int) -> bool:
        return not (
            (start > 0 and _is_word_char(folded[start - 1]))
            or (end < length and _is_word_char(folded[end]))
        )

    found = []
    numbers = "+" in folded or _LIKELY.search(folded) is not None
    for cluster in _CLUSTER.finditer(folded) if numbers else ():
        # A cluster is preceded and followed by no digit, so the look-arounds at
        # its edges see what they would in the whole text.
        for match in _NUMBERS.finditer(folded, cluster.start(), cluster.end()):
            kind = match.lastgroup
            assert kind is not None  # every alternative of _NUMBERS is named
            start, end = match.span(kind)
            if word and not is_word(start, end):
                continue
            if start > 1 and folded[start - 1] == "." and folded[start - 2].isdigit():
                continue  # the decimals of a number ("in 0.10279634200014698s")
            what = _classify(kind, match.group(kind), strict=strict)
            if what == _PHONE and strict and not is_word(start, end):
                # Strict: a phone is refused standing alone ("ACC-13812345678"),
                # not as 11 digits inside a longer code: 1 in 40 random 32-char
                # hex references holds a run like "17400369236".
                continue
            if what is not None:
                found.append((start, end, what))
    # Credit codes: 18 chars, capital letters or only digits.
    if length >= 18 and not folded.islower():
        for match in _CREDIT_CODE.finditer(folded):
            code = match.group()
            # Strict: only codes with a letter. An all-digit credit code is
            # possible, but 1 in 31 arbitrary 18-digit account numbers has its
            # check character.
            if (
                is_word(*match.span())
                and not (strict and code.isdigit())
                and _valid_uscc(code)
            ):
                found.append((*match.span(), _NUMBER))
    return found


def holds_identity(text: str) -> bool:
    """Whether `text` holds a valid identity number or a phone (the strict rule,
    for identifiers that are refused when they do: see the module docstring)."""
    return bool(text) and bool(_spans(text, strict=True))


def contains_identity_word(text: str) -> bool:
    """Whether a word of `text` is shaped like an identity number or phone."""
    return bool(text) and bool(_spans(text, word=True))


def _masked_positions(text: str, start: int, end: int, kind: str) -> list[int]:
    """Offsets to star in one span: identity numbers keep their first 6 and last
    4 characters (as `mask_identity` shows them), phones their last 4 and the
    first 3 of the national number."""
    chars = [i for i in range(start, end) if text[i].isalnum()]
    n = len(chars)
    if kind == _PHONE:
        hidden = max(4, n - 9)
        head = max(0, n - 4 - hidden)
    else:
        head, hidden = 6, n - 10
    return chars[head : head + hidden]


def mask_free_text(text: str) -> str:
    """`text` with each number or phone shaped span starred in the middle, same
    length: "身份证110105194912310021" → "身份证110105********0021". Masked text
    holds no such span, so masking twice changes nothing."""
    if not text:
        return text
    spans = _spans(text)
    if not spans:
        return text
    chars = list(text)
    folded = _folded(text)
    for start, end, kind in spans:
        for i in _masked_positions(folded, start, end, kind):
            chars[i] = "*"
    return "".join(chars)


def redact_free_text(text: str, replacement: str = "[redacted]") -> str:
    """`text` with each number or phone shaped span replaced by `replacement`."""
    if not text:
        return text
    spans = sorted(_spans(text))
    if not spans:
        return text
    parts, at = [], 0
    for start, end, _kind in spans:
        if start < at:  # overlapping a span already replaced
            at = max(at, end)
            continue
        parts += [text[at:start], replacement]
        at = end
    parts.append(text[at:])
    return "".join(parts)
