"""Identity numbers and phones inside text: masked (loose), refused (strict), and
the audit guard (whole words). Pure functions: no database."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bureau.core.identity_shapes import (
    contains_identity_word,
    holds_identity,
    mask_free_text,
    redact_free_text,
    resident_id_check_char,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Shadows the suite-wide cache reset: these tests touch no Redis."""
    yield


def resident(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


ID_X = "11010519491231002X"
ID_BAD_CHECKSUM = "110105194912310021"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (ID_X, "110105********002X"),
        (ID_X.lower(), "110105********002x"),
        (ID_BAD_CHECKSUM, "110105********0021"),  # shaped like one: masked
        ("身份证110105194912310021。", "身份证110105********0021。"),
        ("ID11010519491231002X", "ID110105********002X"),  # letters end no number
        ("110105491231002", "110105*****1002"),  # 15-digit legacy
        ("6222021234567890123", "622202*********0123"),  # a bank card: masked too
        ("13812345678", "138****5678"),
        ("tel:13812345678;", "tel:138****5678;"),
        ("Tel.13812345678", "Tel.138****5678"),  # a dot after a word, no decimal
        ("8613812345678", "86138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("+86 138 1234 5678", "+86 138 **** 5678"),
        ("138-1234-5678", "138-****-5678"),
        ("+14155552671", "+141****2671"),
        ("１５８１２３４５６７８", "１５８****５６７８"),  # full-width digits
        ("110105 19491231 002X", "110105 ******** 002X"),
        ("91350100M000100Y43", "913501********0Y43"),  # credit code (checksum)
    ],
)
def test_mask_free_text_when_text_holds_a_number_or_phone_stars_its_middle(
    text, masked
):
    assert mask_free_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "",
        "张三",
        "ACC-000123",
        "2026-12-03",
        "1234567.89",
        "12345678901",  # 11 digits, not a mobile (12…)
        "12345678901234",  # 14 digits
        "request 9f1c2b7e-4d3a-4b8e-9c1d-2e3f4a5b6c7d",
        "sha256 9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e",
        "91350100M000100Y44",  # credit code with a wrong check character
        "at 1733212345678 ms",  # a timestamp in ms: 13 digits, no 86
        "succeeded in 0.10279634200014698s",  # the decimals of a float
    ],
)
def test_mask_free_text_when_nothing_is_shaped_like_one_keeps_text(text):
    assert mask_free_text(text) == text


@given(st.text(alphabet="0123456789Xx+- 身ID１２３", max_size=60))
def test_mask_free_text_when_applied_keeps_length_and_masks_once(text):
    masked = mask_free_text(text)
    assert len(masked) == len(text)
    assert mask_free_text(masked) == masked
    assert not contains_identity_word(masked)


@pytest.mark.parametrize(
    "text",
    [
        ID_X,
        f"CONSENT-{ID_X}",
        f"C{resident('44030419900101456')}",
        "13812345678",
        "REF-13812345678",
        "+8613712345678",
        "+86 137 1234 5678",
        "+14155552671",
        "139-1234-5678",
        "１３８１２３４５６７８",
        "91350100M000100Y43",
    ],
)
def test_holds_identity_when_a_valid_number_or_phone_is_inside_is_true(text):
    assert holds_identity(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "C-2026-0001",
        ID_BAD_CHECKSUM,  # not a resident id Bureau would accept
        "110105999912310021",  # impossible birth date
        "LN2024010100012345",  # 16 digits: a contract number
        "202401010001234567",  # 18 digits, neither id nor credit code
        "110105491231002",  # 15-digit legacy: see _classify
        "12345678901",
        "upload-2026-12-03-a",
        "9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c",
        "ACC-479-9ed6b7c09f17400369236fd54f28ca29",  # 11 digits inside a digest
        "LN13812345678X",  # a phone's digits inside a longer code
    ],
)
def test_holds_identity_when_nothing_valid_is_inside_is_false(text):
    assert not holds_identity(text)


def test_contains_identity_word_when_digits_are_inside_a_word_is_false():
    """The audit guard sees whole words only: a hex digest's digit run is not one,
    a number standing alone (or next to CJK text) is."""
    assert not contains_identity_word("ab13812345678cd")
    assert not contains_identity_word("sha256=ab" + "1" * 20 + "cd")
    assert contains_identity_word('{"phone": "13812345678"}')
    assert contains_identity_word("身份证11010519491231002X")
    assert contains_identity_word("+86 138 1234 5678")


def test_redact_free_text_when_spans_overlap_replaces_each_once():
    text = "id 91350100M000100Y43 and 110105194912310021 or 13812345678"
    assert redact_free_text(text) == "id [redacted] and [redacted] or [redacted]"
    assert redact_free_text("nothing here") == "nothing here"


def test_masked_forms_when_compared_with_mask_identity_match_it():
    """The masked number in text reads like the stored id_masked form."""
    from bureau.records.identity import mask_identity, mask_phone

    assert mask_free_text(ID_X) == mask_identity("resident_id", ID_X)
    assert mask_free_text("+8613812345678") == mask_phone("+8613812345678")
    assert re.fullmatch(r"138\*{4}5678", mask_free_text("13812345678"))
