"""Identity numbers and phones: checksums, normalisation, masking, hashing."""

import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bureau.records.identity import (
    ID_TYPES,
    IdentityError,
    identity_hmac,
    mask_identity,
    mask_phone,
    mask_value_for_column,
    normalize_identity,
    normalize_phone,
    normalize_text,
    phone_hmac,
    resident_id_check_char,
    resident_id_from_15,
    uscc_check_char,
)

TODAY = date(2025, 11, 26)
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
KEY = b"k" * 32


def to_full_width(value: str) -> str:
    """ASCII letters and digits as their full-width forms (U+FF01..U+FF5E)."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in value)


def error_of(id_type: str, raw: str) -> IdentityError:
    with pytest.raises(IdentityError) as info:
        normalize_identity(id_type, raw, today=TODAY)
    return info.value


birth_dates = st.dates(min_value=date(1880, 1, 1), max_value=TODAY)
areas = st.from_regex(r"[1-8][0-9]{5}", fullmatch=True)
sequences = st.from_regex(r"[0-9]{3}", fullmatch=True)


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    body = draw(areas) + draw(birth_dates).strftime("%Y%m%d") + draw(sequences)
    return body + resident_id_check_char(body)


@st.composite
def usccs(draw: st.DrawFn) -> str:
    body = "".join(
        draw(st.lists(st.sampled_from(USCC_CHARSET), min_size=17, max_size=17))
    )
    return body + uscc_check_char(body)


# -- resident id ---------------------------------------------------------------


@pytest.mark.parametrize(
    "number", ["11010519491231002X", "360426199101010071", "440524188001010014"]
)
def test_resident_id_when_spec_vector_is_valid_returns_it(number):
    assert normalize_identity("resident_id", number, today=TODAY) == number


def test_resident_id_when_check_char_is_wrong_raises_invalid_checksum():
    assert error_of("resident_id", "110105194912310021").code == "invalid_checksum"


def test_resident_id_when_x_is_lower_case_returns_upper_case():
    assert (
        normalize_identity("resident_id", " 11010519491231002x ")
        == "11010519491231002X"
    )


def test_resident_id_when_15_digits_returns_18_digit_form():
    assert normalize_identity("resident_id", "110105491231002") == "11010519491231002X"


def test_resident_id_from_15_when_converted_inserts_century_and_check_char():
    assert resident_id_from_15("360426910101007") == "360426199101010071"


@pytest.mark.parametrize(
    "number",
    [
        "1101051949123100",  # too short
        "11010519491231002Y",  # bad last char
        "1101051949123100XX",  # X inside the body
        "110105194913310029",  # month 13
        "110105187912310020",  # born before 1880
    ],
)
def test_resident_id_when_malformed_raises_invalid_format(number):
    assert error_of("resident_id", number).code == "invalid_format"


def test_resident_id_when_born_after_today_raises_invalid_format():
    body = "110105" + (TODAY + timedelta(days=1)).strftime("%Y%m%d") + "002"
    number = body + resident_id_check_char(body)
    assert error_of("resident_id", number).code == "invalid_format"


def test_resident_id_when_full_width_returns_ascii():
    full = to_full_width("11010519491231002X")
    assert normalize_identity("resident_id", full) == "11010519491231002X"


@given(resident_ids())
def test_resident_id_when_body_is_a_real_date_and_check_char_computed_validates(number):
    assert normalize_identity("resident_id", number, today=TODAY) == number


@given(resident_ids(), st.integers(0, 17), st.integers(1, 9))
def test_resident_id_when_one_character_changes_is_rejected(number, position, delta):
    if position == 17:
        choices = "0123456789X"
        new = choices[(choices.index(number[17]) + delta) % len(choices)]
    else:
        new = str((int(number[position]) + delta) % 10)
    changed = number[:position] + new + number[position + 1 :]
    with pytest.raises(IdentityError):
        normalize_identity("resident_id", changed, today=TODAY)


@given(
    areas, st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)), sequences
)
def test_resident_id_from_15_when_round_tripped_keeps_the_body(area, born, seq):
    legacy = area + born.strftime("%y%m%d") + seq
    number = resident_id_from_15(legacy)
    assert number[:6] + number[8:17] == legacy
    assert normalize_identity("resident_id", legacy, today=TODAY) == number


@given(resident_ids())
def test_resident_id_when_full_width_equals_half_width(number):
    full = to_full_width(number)
    assert normalize_identity("resident_id", full, today=TODAY) == number


# -- USCC, passport, other -----------------------------------------------------


@pytest.mark.parametrize("code", ["91110000600037341L", "91350100M000100Y43"])
def test_uscc_when_spec_vector_is_valid_returns_it(code):
    assert normalize_identity("uscc", code) == code


def test_uscc_when_lower_case_returns_upper_case():
    assert normalize_identity("uscc", "91350100m000100y43") == "91350100M000100Y43"


def test_uscc_when_check_char_is_wrong_raises_invalid_checksum():
    assert error_of("uscc", "91110000600037341M").code == "invalid_checksum"


@pytest.mark.parametrize(
    "code", ["9111000060003734IL", "91110000600037341", "91110000600037341O"]
)
def test_uscc_when_malformed_raises_invalid_format(code):
    assert error_of("uscc", code).code == "invalid_format"


@given(usccs(), st.integers(0, 17), st.integers(1, 30))
def test_uscc_when_one_character_changes_is_rejected(code, position, delta):
    new = USCC_CHARSET[(USCC_CHARSET.index(code[position]) + delta) % 31]
    changed = code[:position] + new + code[position + 1 :]
    assert normalize_identity("uscc", code) == code
    with pytest.raises(IdentityError):
        normalize_identity("uscc", changed)


def test_passport_when_lower_case_returns_upper_case():
    assert normalize_identity("passport", " e12345678 ") == "E12345678"


@pytest.mark.parametrize("number", ["E123", "E1234 5678", "E-12345678", "A" * 21])
def test_passport_when_malformed_raises_invalid_format(number):
    assert error_of("passport", number).code == "invalid_format"


def test_other_when_printable_returns_upper_case():
    assert normalize_identity("other", "hk-a123456(7)") == "HK-A123456(7)"


@pytest.mark.parametrize("number", ["AB 12", "A\tB", "X" * 65])
def test_other_when_spaced_or_too_long_raises_invalid_format(number):
    assert error_of("other", number).code == "invalid_format"


def test_identity_when_type_is_unknown_raises_invalid_choice():
    assert error_of("driver_licence", "123456").code == "invalid_choice"


@pytest.mark.parametrize("id_type", ID_TYPES)
def test_identity_when_blank_raises_required(id_type):
    assert error_of(id_type, "  ").code == "required"


@pytest.mark.parametrize(
    ("id_type", "raw"),
    [
        ("resident_id", "110105194912310021"),
        ("resident_id", "110105194913310029"),
        ("uscc", "91110000600037341M"),
        ("passport", "E1234 5678"),
        ("other", "AB 1234567"),
    ],
)
def test_identity_error_when_raised_never_contains_the_value(id_type, raw):
    error = error_of(id_type, raw)
    assert raw not in error.message
    assert raw[:12] not in str(error)


def test_normalize_text_when_full_width_returns_ascii():
    assert normalize_text("\u3000" + to_full_width("ABC123") + "\u3000") == "ABC123"


# -- masking -------------------------------------------------------------------


def test_mask_identity_when_resident_id_keeps_six_and_four():
    assert mask_identity("resident_id", "11010519491231002X") == "110105********002X"


def test_mask_identity_when_uscc_keeps_six_and_four():
    assert mask_identity("uscc", "91110000600037341L") == "911100********341L"


@pytest.mark.parametrize(
    ("value", "masked"),
    [("E12345678", "E1*****78"), ("ABCDE", "AB*DE"), ("ABCD", "***D"), ("A", "*")],
)
def test_mask_identity_when_passport_or_short_keeps_the_ends(value, masked):
    assert mask_identity("passport", value) == masked


@given(st.one_of(resident_ids(), usccs()))
def test_mask_identity_when_18_chars_reveals_at_most_10(number):
    masked = mask_identity("resident_id", number)
    assert len(masked) == 18
    assert sum(ch != "*" for ch in masked) <= 10


# -- phones --------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "8613812345678",
        to_full_width("138 1234 5678"),
    ],
)
def test_phone_when_prc_mobile_returns_plus_86(raw):
    assert normalize_phone(raw) == "+8613812345678"


def test_phone_when_e164_returns_it_compact():
    assert normalize_phone("+1 415-555-0100") == "+14155550100"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12345",
        "23812345678",
        "+0123456789",
        "+1234567",
        "+1234567890123456",
        "tel:138",
    ],
)
def test_phone_when_not_a_number_raises_invalid_format(raw):
    with pytest.raises(IdentityError) as info:
        normalize_phone(raw)
    assert info.value.code == "invalid_format"
    assert not raw or raw not in info.value.message


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+8613812345678", "+86138****5678"),
        ("+14155550100", "+1415***0100"),
        ("+447911123456", "+44791***3456"),
    ],
)
def test_mask_phone_when_normalised_keeps_country_code_and_ends(phone, masked):
    assert mask_phone(phone) == masked


# -- hashing -------------------------------------------------------------------


def test_identity_hmac_when_computed_is_64_hex_and_stable():
    digest = identity_hmac(KEY, "resident_id", "11010519491231002X")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == identity_hmac(KEY, "resident_id", "11010519491231002X")


def test_identity_hmac_when_type_or_key_differs_differs():
    digest = identity_hmac(KEY, "passport", "E12345678")
    assert digest != identity_hmac(KEY, "other", "E12345678")
    assert digest != identity_hmac(b"j" * 32, "passport", "E12345678")


def test_phone_hmac_when_same_digits_as_an_identity_differs():
    assert phone_hmac(KEY, "+8613812345678") != identity_hmac(
        KEY, "other", "+8613812345678"
    )


# -- masking raw values for error reports -------------------------------------


@pytest.mark.parametrize(
    ("column", "raw", "shown"),
    [
        ("id_number", "110105194912310021", "110105********0021"),
        ("id_number", "12345", "***45"),
        ("id_number", "123", "**3"),
        ("phone", "+8613812345678", "+86138****5678"),
        ("phone", "13812345678", "*********78"),
        ("name", "张三", "张三"),
    ],
)
def test_mask_value_for_column_when_reporting_hides_identity(column, raw, shown):
    assert mask_value_for_column(column, raw) == shown


def test_mask_value_for_column_when_other_column_is_long_cuts_to_100():
    assert mask_value_for_column("name", "x" * 500) == "x" * 100
