"""Per-row rules of the furnishing format: one RowError per failed check."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bureau.records.fileformat import validation
from bureau.records.fileformat.reader import COLUMNS, REQUIRED_COLUMNS
from bureau.records.fileformat.validation import CleanRow, RowValidator

TODAY = date(2025, 11, 26)
ALICE_ID = "11010519491231002X"


def good_row(**changes):
    """A current consumer loan of Alice's, valid on TODAY."""
    row = {
        "account_no": "L-2024/0001",
        "id_type": "resident_id",
        "id_number": ALICE_ID,
        "name": "张三丰",
        "role": "",
        "loan_type": "consumer",
        "currency": "",
        "principal": "10000.00",
        "balance": "2500.50",
        "amount_overdue": "0",
        "days_overdue": "0",
        "status": "current",
        "classification": "",
        "opened_on": "2024-01-15",
        "due_on": "2026-01-15",
        "first_delinquency_on": "",
        "as_of": "2025-10-31",
        "phone": "",
        "payment_history": "",
        "action": "",
    }
    row.update(changes)
    return row


def overdue_row(**changes):
    overdue = {
        "status": "overdue",
        "days_overdue": "35",
        "amount_overdue": "120.50",
        "first_delinquency_on": "2025-09-26",
    }
    return good_row(**{**overdue, **changes})


def validate(row):
    return RowValidator(today=TODAY).validate(7, row)


def errors_of(row):
    clean, errors = validate(row)
    assert clean is None
    assert errors
    return [(e.column, e.code) for e in errors]


def clean_of(row):
    clean, errors = validate(row)
    assert errors == []
    return clean


# -- passing rows ------------------------------------------------------------------


def test_validate_when_row_is_good_returns_typed_clean_row():
    clean = clean_of(good_row(phone="138 1234 5678", payment_history="nnn12"))
    assert clean == CleanRow(
        account_no="L-2024/0001",
        id_type="resident_id",
        id_number=ALICE_ID,
        name="张三丰",
        role="borrower",
        loan_type="consumer",
        currency="CNY",
        principal=Decimal("10000.00"),
        balance=Decimal("2500.50"),
        amount_overdue=Decimal(0),
        days_overdue=0,
        status="current",
        classification="normal",
        opened_on=date(2024, 1, 15),
        due_on=date(2026, 1, 15),
        first_delinquency_on=None,
        as_of=date(2025, 10, 31),
        phone="+8613812345678",
        payment_history="NNN12",
        action="upsert",
    )


def test_validate_when_overdue_row_is_good_returns_it():
    clean = clean_of(overdue_row())
    assert (clean.days_overdue, clean.classification) == (35, "special_mention")
    assert clean.first_delinquency_on == date(2025, 9, 26)


def test_validate_when_optional_columns_are_absent_uses_defaults():
    row = {
        k: v for k, v in good_row().items() if k in validation.DELETE_REQUIRED_COLUMNS
    }
    row.update(name="Li", loan_type="cash", principal="1", balance="1")
    row.update(
        amount_overdue="0", days_overdue="0", status="current", opened_on="2025-01-01"
    )
    clean = clean_of(row)
    assert (clean.role, clean.currency, clean.action) == ("borrower", "CNY", "upsert")
    assert (clean.due_on, clean.phone, clean.payment_history) == (None, None, "")


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, "normal"),
        (1, "special_mention"),
        (90, "special_mention"),
        (91, "substandard"),
        (270, "substandard"),
        (271, "doubtful"),
        (360, "doubtful"),
        (361, "loss"),
        (9999, "loss"),
    ],
)
def test_validate_when_classification_is_empty_derives_it_from_days(days, expected):
    row = overdue_row(days_overdue=str(days), status="default" if days else "current")
    if not days:
        row.update(amount_overdue="0", first_delinquency_on="")
    assert clean_of(row).classification == expected


def test_validate_when_classification_is_given_keeps_it():
    assert clean_of(overdue_row(classification="Loss")).classification == "loss"


def test_validate_when_values_are_full_width_and_padded_normalises_them():
    def wide(text):
        return "".join(chr(ord(ch) + 0xFEE0) for ch in text)

    row = good_row(
        principal=wide("123.45"),
        id_number=f" {wide(ALICE_ID.lower())}\u3000",
        as_of=wide("2025-10-31"),
    )
    clean = clean_of(row)
    assert (clean.principal, clean.id_number) == (Decimal("123.45"), ALICE_ID)
    assert clean.as_of == date(2025, 10, 31)


def test_validate_when_id_has_15_digits_converts_it():
    assert clean_of(good_row(id_number="110105491231002")).id_number == ALICE_ID


@pytest.mark.parametrize(
    ("id_type", "id_number"),
    [
        ("uscc", "91350100M000100Y43"),
        ("passport", "e12345678"),
        ("other", "HK-A1234567"),
    ],
)
def test_validate_when_other_identity_types_are_valid_accepts_them(id_type, id_number):
    assert (
        clean_of(good_row(id_type=id_type, id_number=id_number)).id_number
        == id_number.upper()
    )


@pytest.mark.parametrize("amount", ["0", "0.5", "12345678901234.99", "1.500", "007"])
def test_validate_when_decimal_is_well_formed_accepts_it(amount):
    assert clean_of(good_row(balance=amount)).balance == Decimal(amount)


def test_validate_when_payment_history_uses_every_allowed_char_accepts_it():
    assert clean_of(good_row(payment_history="N1234567CGDZ#*/")).payment_history


def test_validate_when_as_of_is_today_or_exactly_five_years_old_accepts_it():
    assert clean_of(good_row(as_of="2025-11-26")).as_of == TODAY
    assert clean_of(good_row(as_of="2020-11-26", opened_on="2020-01-01", due_on=""))


# -- one failing check per code --------------------------------------------------------


@pytest.mark.parametrize("column", REQUIRED_COLUMNS)
def test_validate_when_required_value_is_blank_reports_required(column):
    assert (column, "required") in errors_of(good_row(**{column: "  "}))


def test_validate_when_required_key_is_absent_reports_required():
    row = good_row()
    del row["principal"]
    assert errors_of(row) == [("principal", "required")]


@pytest.mark.parametrize("status", ["overdue", "default", "written_off"])
def test_validate_when_delinquent_without_first_delinquency_reports_required(status):
    row = overdue_row(status=status, first_delinquency_on="")
    assert errors_of(row) == [("first_delinquency_on", "required")]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("account_no", "L 2024"),
        ("account_no", "A" * 65),
        ("account_no", "账户1"),
        ("name", "x" * 101),
        ("name", "Li\nWei"),
        ("currency", "RMB1"),
        ("currency", "¥"),
        ("principal", "1,000.00"),
        ("principal", "1e3"),
        ("principal", "1.005"),
        ("principal", "abc"),
        ("days_overdue", "3.0"),
        ("days_overdue", "three"),
        ("opened_on", "2024/01/15"),
        ("opened_on", "20240115"),
        ("opened_on", "2024-02-30"),
        ("due_on", "next year"),
        ("payment_history", "NNX"),
        ("payment_history", "N" * 25),
        ("phone", "12345"),
        ("id_number", "1101051949123100"),
    ],
)
def test_validate_when_value_is_malformed_reports_invalid_format(column, value):
    assert errors_of(good_row(**{column: value})) == [(column, "invalid_format")]


def test_validate_when_resident_id_check_char_is_wrong_reports_invalid_checksum():
    assert errors_of(good_row(id_number="110105194912310021")) == [
        ("id_number", "invalid_checksum")
    ]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("id_type", "driver_licence"),
        ("role", "spouse"),
        ("loan_type", "payday"),
        ("status", "frozen"),
        ("classification", "bad"),
        ("action", "remove"),
    ],
)
def test_validate_when_value_is_not_a_choice_reports_invalid_choice(column, value):
    assert (column, "invalid_choice") in errors_of(good_row(**{column: value}))


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("principal", "-1"),
        ("balance", "-0.01"),
        ("principal", "123456789012345"),
        ("days_overdue", "10000"),
        ("days_overdue", "-1"),
    ],
)
def test_validate_when_number_is_out_of_range_reports_out_of_range(column, value):
    assert errors_of(good_row(**{column: value})) == [(column, "out_of_range")]


@pytest.mark.parametrize(
    ("row", "columns"),
    [
        (good_row(amount_overdue="10"), ["amount_overdue"]),
        (good_row(days_overdue="5", first_delinquency_on="2025-10-01"),
         ["days_overdue", "amount_overdue"]),
        (overdue_row(days_overdue="0", amount_overdue="0"), ["days_overdue"]),
        (good_row(status="settled"), ["balance"]),
        (good_row(status="closed"), ["balance"]),
        (overdue_row(amount_overdue="0"), ["amount_overdue"]),
        (good_row(opened_on="2025-11-01"), ["opened_on"]),
        (good_row(due_on="2023-12-31"), ["due_on"]),
        (overdue_row(first_delinquency_on="2025-11-01"), ["first_delinquency_on"]),
        (overdue_row(first_delinquency_on="2023-12-31"), ["first_delinquency_on"]),
    ],
)  # fmt: skip
def test_validate_when_fields_contradict_reports_inconsistent(row, columns):
    assert errors_of(row) == [(column, "inconsistent") for column in columns]


@pytest.mark.parametrize("status", ["settled", "closed"])
def test_validate_when_settled_with_zero_balance_accepts_it(status):
    assert clean_of(good_row(status=status, balance="0.00")).status == status


def test_validate_when_first_delinquency_after_as_of_says_why():
    _, errors = validate(overdue_row(first_delinquency_on="2025-11-01"))
    assert "as_of" in errors[0].message


def test_validate_when_as_of_is_tomorrow_reports_future_date():
    assert errors_of(good_row(as_of="2025-11-27")) == [("as_of", "future_date")]


def test_validate_when_as_of_is_over_five_years_old_reports_too_old():
    row = good_row(as_of="2020-11-25", opened_on="2020-01-01", due_on="")
    assert errors_of(row) == [("as_of", "too_old")]


def test_validate_when_key_is_not_a_column_reports_unknown_column():
    assert errors_of(good_row(nickname="Al")) == [("nickname", "unknown_column")]


def test_row_error_codes_when_listed_include_reader_and_database_codes():
    assert validation.ENCODING == "encoding"
    assert validation.REAGING == "reaging"
    assert set(validation.ROW_ERROR_CODES) == {
        "required", "invalid_format", "invalid_checksum", "invalid_choice",
        "out_of_range", "inconsistent", "reaging", "future_date", "too_old",
        "unknown_column", "encoding",
    }  # fmt: skip


# -- error details --------------------------------------------------------------------


def test_validate_when_several_fields_are_bad_reports_each_once():
    row = good_row(loan_type="payday", principal="-5", as_of="2030-01-01")
    assert errors_of(row) == [
        ("as_of", "future_date"),
        ("loan_type", "invalid_choice"),
        ("principal", "out_of_range"),
    ]


def test_validate_when_error_is_reported_carries_row_number_and_value():
    _, errors = validate(good_row(loan_type="payday"))
    assert (errors[0].row, errors[0].value) == (7, "payday")
    assert errors[0].message


def test_validate_when_id_number_is_bad_masks_it_in_the_error():
    _, errors = validate(good_row(id_number="110105194912310021"))
    assert errors[0].value == "110105********0021"
    assert "110105194912310021" not in errors[0].message


def test_validate_when_phone_is_bad_masks_it_in_the_error():
    _, errors = validate(good_row(phone="+86 138 1234 567"))
    assert (errors[0].column, errors[0].code) == ("phone", "invalid_format")
    assert errors[0].value == "+86 13****** 567"
    assert "1234" not in errors[0].message


# -- delete rows ----------------------------------------------------------------------


def test_validate_when_delete_has_only_key_and_as_of_accepts_it():
    row = {"action": "DELETE", "account_no": "L-1", "id_type": "passport"}
    row.update(id_number="E12345678", as_of="2025-10-31", principal="garbage")
    clean = clean_of(row)
    assert (clean.action, clean.account_no, clean.id_number) == (
        "delete",
        "L-1",
        "E12345678",
    )
    assert clean.as_of == date(2025, 10, 31)


def test_validate_when_delete_lacks_as_of_reports_required():
    row = {
        "action": "delete",
        "account_no": "L-1",
        "id_type": "passport",
        "id_number": "E12345678",
    }
    assert errors_of(row) == [("as_of", "required")]


# -- robustness -----------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(COLUMNS),
        st.one_of(
            st.text(max_size=30), st.sampled_from(["0", "1.5", "2025-01-01", ALICE_ID])
        ),
    )
)
def test_validate_when_values_are_arbitrary_never_raises(values):
    clean, errors = validate(values)
    assert (clean is None) == bool(errors)
    assert all(error.code in validation.ROW_ERROR_CODES for error in errors)
    assert all(error.column in COLUMNS for error in errors)


# -- identity numbers and phones where they do not belong ----------------------------

BOB_ID = "360426199101010071"


@pytest.mark.parametrize(
    "name", [BOB_ID, f"张三 {BOB_ID}", "13812345678", "+86 138 1234 5678"]
)
def test_validate_when_name_is_an_identity_number_or_phone_refuses_it(name):
    _, errors = validate(good_row(name=name))
    assert [(e.column, e.code) for e in errors] == [("name", "invalid_format")]
    assert errors[0].message == validation.MSG_NO_IDENTITY
    assert BOB_ID not in errors[0].value and "1234" not in errors[0].value


@pytest.mark.parametrize(
    "account_no", [BOB_ID, f"LN{BOB_ID}", "13812345678", "139-1234-5678"]
)
def test_validate_when_account_no_is_an_identity_number_or_phone_refuses_it(
    account_no,
):
    _, errors = validate(good_row(account_no=account_no))
    assert [(e.column, e.code) for e in errors] == [("account_no", "invalid_format")]
    assert errors[0].message == validation.MSG_NO_IDENTITY


@pytest.mark.parametrize(
    "account_no",
    [
        "202401010001234567",  # 18 digits, neither id nor credit code
        "110105194912310021",  # wrong check character: no resident id
        "LN-2024/0000000001",
        "12345678901",
    ],
)
def test_validate_when_account_no_is_a_long_number_but_no_identity_accepts_it(
    account_no,
):
    assert clean_of(good_row(account_no=account_no)).account_no == account_no


def test_validate_when_delete_names_an_identity_as_account_no_refuses_it():
    """A delete's key would be kept on the tombstone: the same rule applies."""
    row = {"account_no": BOB_ID, "id_type": "resident_id", "id_number": ALICE_ID}
    _, errors = validate({**row, "action": "delete", "as_of": "2025-10-31"})
    assert [(e.column, e.code) for e in errors] == [("account_no", "invalid_format")]


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        ("days_overdue", "13812345678", "138****5678"),
        ("as_of", BOB_ID, "360426********0071"),
        ("principal", f"{BOB_ID}.00", "360426********0071.00"),
    ],
)
def test_validate_when_a_number_is_in_another_column_masks_it_by_shape(
    column, value, shown
):
    _, errors = validate(good_row(**{column: value}))
    assert [(e.column, e.value) for e in errors if e.column == column] == [
        (column, shown)
    ]


def test_row_error_when_built_with_a_clear_value_stores_it_masked():
    from bureau.records.fileformat.errors import RowError

    error = RowError(3, "first_delinquency_on", "reaging", "m", f"x {BOB_ID}")
    assert error.value == "x 360426********0071"
