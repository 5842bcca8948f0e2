"""Per-row rules of the furnishing format (docs/records.md), except ``reaging``.

``reaging`` compares with the stored row, so the ingest service checks it;
its code is exported here with the others. This is the hot path of ingest:
patterns and sets are built once, and the happy path raises no exception.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from bureau.records.fileformat import messages as M
from bureau.records.fileformat.errors import (
    ENCODING,
    FUTURE_DATE,
    INCONSISTENT,
    INVALID_CHECKSUM,
    INVALID_CHOICE,
    INVALID_FORMAT,
    OUT_OF_RANGE,
    REAGING,
    REQUIRED,
    ROW_ERROR_CODES,
    TOO_OLD,
    UNKNOWN_COLUMN,
    RowError,
)
from bureau.records.fileformat.reader import COLUMNS
from bureau.records.identity import (
    ID_TYPES,
    IdentityError,
    holds_identity,
    mask_free_text,
    mask_value_for_column,
    normalize_identity,
    normalize_phone,
)

__all__ = (
    "ACTIONS",
    "CLASSIFICATIONS",
    "DELETE_REQUIRED_COLUMNS",
    "ENCODING",
    "FUTURE_DATE",
    "INCONSISTENT",
    "INVALID_CHECKSUM",
    "INVALID_CHOICE",
    "INVALID_FORMAT",
    "LOAN_TYPES",
    "OUT_OF_RANGE",
    "REAGING",
    "REQUIRED",
    "ROLES",
    "ROW_ERROR_CODES",
    "STATUSES",
    "TOO_OLD",
    "UNKNOWN_COLUMN",
    "CleanRow",
    "RowValidator",
    "classify",
)

ROLES = ("borrower", "co_borrower", "guarantor")
LOAN_TYPES = (
    "consumer",
    "cash",
    "credit_line",
    "mortgage",
    "auto",
    "business",
    "other",
)
STATUSES = ("current", "overdue", "default", "written_off", "settled", "closed")
CLASSIFICATIONS = ("normal", "special_mention", "substandard", "doubtful", "loss")
ACTIONS = ("upsert", "delete")
DELETE_REQUIRED_COLUMNS = ("account_no", "id_type", "id_number", "as_of")

MAX_NAME_LENGTH = 100
MAX_DAYS_OVERDUE = 9999
MAX_HISTORY_LENGTH = 24
MAX_AGE_YEARS = 5
PAYMENT_HISTORY_CHARS = "N1234567CGDZ#*/"

_COLUMN_KEYS = frozenset(COLUMNS)
_ROLES = frozenset(ROLES)
_LOAN_TYPES = frozenset(LOAN_TYPES)
_STATUSES = frozenset(STATUSES)
_CLASSIFICATIONS = frozenset(CLASSIFICATIONS)
_ID_TYPES = frozenset(ID_TYPES)
_DELINQUENT_STATUSES = frozenset({"overdue", "default", "written_off"})
_ZERO_BALANCE_STATUSES = frozenset({"settled", "closed"})
_HISTORY_CHARS = frozenset(PAYMENT_HISTORY_CHARS)

_ACCOUNT_RE = re.compile(r"[A-Za-z0-9\-_/]{1,64}")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DECIMAL_RE = re.compile(r"[0-9]{1,14}(?:\.[0-9]{1,2})?")
_LOOSE_DECIMAL_RE = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_ZERO = Decimal(0)

# fail(column, code, message) records one RowError for the row being checked.
_Fail = Callable[[str, str, str], None]

# Messages with their parameters filled once (bureau/records/fileformat/messages.py
# holds every template; the web pages and the API translate them when shown).
_MSG_TOO_OLD = M.fill(M.MSG_TOO_OLD, years=MAX_AGE_YEARS)
_MSG_NAME_LENGTH = M.fill(M.MSG_MAX_CHARS, count=MAX_NAME_LENGTH)
_MSG_HISTORY_LENGTH = M.fill(M.MSG_MAX_CHARS, count=MAX_HISTORY_LENGTH)
_MSG_HISTORY_CHARS = M.fill(M.MSG_HISTORY_CHARS, chars=PAYMENT_HISTORY_CHARS)
_MSG_DAYS_RANGE = M.fill(M.MSG_BETWEEN, low=0, high=MAX_DAYS_OVERDUE)
_MSG_ID_TYPES = M.fill(M.MSG_ONE_OF, choices=", ".join(ID_TYPES))
MSG_NO_IDENTITY = M.MSG_NO_IDENTITY
# Shortest text the strict rule can match: "+" and 8 digits; a mobile is 11.
_SHORTEST_IDENTITY = 9


# The values a row reports about an account (besides its key, the name, phone and
# history). Ingest hashes and stages them in this order; reports show them;
# dispute corrections may change them.
REPORTED_FIELDS = (
    "role",
    "loan_type",
    "currency",
    "principal",
    "balance",
    "amount_overdue",
    "days_overdue",
    "status",
    "classification",
    "opened_on",
    "due_on",
    "first_delinquency_on",
    "as_of",
)


@dataclass(slots=True)
class CleanRow:
    """A valid row, typed. ``id_number`` and ``phone`` are normalised clear
    text: hash and mask them, then drop them. For ``action == "delete"`` only
    the key fields and ``as_of`` are meaningful; the rest are placeholders."""

    account_no: str
    id_type: str
    id_number: str
    name: str
    role: str
    loan_type: str
    currency: str
    principal: Decimal
    balance: Decimal
    amount_overdue: Decimal
    days_overdue: int
    status: str
    classification: str
    opened_on: date
    due_on: date | None
    first_delinquency_on: date | None
    as_of: date
    phone: str | None
    payment_history: str
    action: str


def classify(days_overdue: int) -> str:
    """Loan classification derived from days overdue (five-tier)."""
    if days_overdue <= 0:
        return "normal"
    if days_overdue <= 90:
        return "special_mention"
    if days_overdue <= 270:
        return "substandard"
    if days_overdue <= 360:
        return "doubtful"
    return "loss"


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class RowValidator:
    """Checks one row at a time; ``today`` bounds ``as_of`` and birth dates."""

    def __init__(self, *, today: date) -> None:
        self.today = today
        self.oldest_as_of = _years_before(today, MAX_AGE_YEARS)

    def validate(
        self, row_number: int, values: dict[str, str]
    ) -> tuple[CleanRow | None, list[RowError]]:
        """The typed row, or None and one ``RowError`` per failed check."""
        errors: list[RowError] = []
        nfkc = unicodedata.normalize
        cleaned = {
            key: value.strip() if value.isascii() else nfkc("NFKC", value).strip()
            for key, value in values.items()
        }
        get = cleaned.get
        raw = values.get
        if not _COLUMN_KEYS.issuperset(values):
            for key in values:
                if key not in _COLUMN_KEYS:
                    errors.append(
                        RowError(
                            row_number,
                            mask_free_text(key[:64]),
                            UNKNOWN_COLUMN,
                            M.MSG_UNKNOWN_COLUMN,
                            mask_value_for_column("id_number", values[key] or ""),
                        )
                    )

        def fail(column: str, code: str, message: str) -> None:
            shown = mask_value_for_column(column, raw(column) or "")
            errors.append(RowError(row_number, column, code, message, shown))

        action = get("action", "").lower() or "upsert"
        if action not in ACTIONS:
            fail("action", INVALID_CHOICE, M.MSG_ACTION)
            action = "upsert"

        account_no = get("account_no", "")
        if not account_no:
            fail("account_no", REQUIRED, M.MSG_REQUIRED)
        elif _ACCOUNT_RE.fullmatch(account_no) is None:
            fail(
                "account_no",
                INVALID_FORMAT,
                M.MSG_ACCOUNT_NO,
            )
        elif len(account_no) >= _SHORTEST_IDENTITY and holds_identity(account_no):
            fail("account_no", INVALID_FORMAT, MSG_NO_IDENTITY)

        id_type = get("id_type", "").lower()
        id_number = ""
        if not id_type:
            fail("id_type", REQUIRED, M.MSG_REQUIRED)
        elif id_type not in _ID_TYPES:
            fail("id_type", INVALID_CHOICE, _MSG_ID_TYPES)
        raw_id = get("id_number", "")
        if not raw_id:
            fail("id_number", REQUIRED, M.MSG_REQUIRED)
        elif id_type in _ID_TYPES:
            try:
                id_number = normalize_identity(id_type, raw_id, today=self.today)
            except IdentityError as exc:
                fail("id_number", exc.code, exc.message)

        text = get("as_of", "")
        as_of = _iso_date(text)
        if as_of is None:
            _date_error("as_of", text, fail, required=True)
        elif as_of > self.today:
            fail("as_of", FUTURE_DATE, M.MSG_FUTURE)
        elif as_of < self.oldest_as_of:
            fail("as_of", TOO_OLD, _MSG_TOO_OLD)

        if action == "delete":
            if errors:
                return None, errors
            return _delete_row(account_no, id_type, id_number, as_of), errors

        name = get("name", "")
        if not name:
            fail("name", REQUIRED, M.MSG_REQUIRED)
        elif len(name) > MAX_NAME_LENGTH:
            fail("name", INVALID_FORMAT, _MSG_NAME_LENGTH)
        elif not name.isprintable():
            fail("name", INVALID_FORMAT, M.MSG_CONTROL_CHARS)
        elif len(name) >= _SHORTEST_IDENTITY and holds_identity(name):
            fail("name", INVALID_FORMAT, MSG_NO_IDENTITY)

        role = get("role", "").lower() or "borrower"
        if role not in _ROLES:
            role = _choice_error("role", role, ROLES, fail)
        loan_type = get("loan_type", "").lower()
        if loan_type not in _LOAN_TYPES:
            loan_type = _choice_error("loan_type", loan_type, LOAN_TYPES, fail)
        status = get("status", "").lower()
        if status not in _STATUSES:
            status = _choice_error("status", status, STATUSES, fail)
        classification = get("classification", "").lower()
        if classification and classification not in _CLASSIFICATIONS:
            classification = _choice_error(
                "classification", classification, CLASSIFICATIONS, fail
            )

        currency = get("currency", "").upper() or "CNY"
        if _CURRENCY_RE.fullmatch(currency) is None:
            fail("currency", INVALID_FORMAT, M.MSG_CURRENCY)

        decimal_ok = _DECIMAL_RE.fullmatch
        text = get("principal", "")
        principal = (
            Decimal(text)
            if decimal_ok(text)
            else _decimal_slow("principal", text, fail)
        )
        text = get("balance", "")
        balance = (
            Decimal(text) if decimal_ok(text) else _decimal_slow("balance", text, fail)
        )
        text = get("amount_overdue", "")
        amount_overdue = (
            Decimal(text)
            if decimal_ok(text)
            else _decimal_slow("amount_overdue", text, fail)
        )

        text = get("days_overdue", "")
        if 0 < len(text) <= 4 and text.isascii() and text.isdigit():
            days_overdue: int | None = int(text)
        else:
            days_overdue = _days_slow("days_overdue", text, fail)

        text = get("opened_on", "")
        opened_on = _iso_date(text)
        if opened_on is None:
            _date_error("opened_on", text, fail, required=True)
        text = get("due_on", "")
        due_on = _iso_date(text) if text else None
        if due_on is None and text:
            _date_error("due_on", text, fail)
        delinquency_text = get("first_delinquency_on", "")
        first_delinquency_on = _iso_date(delinquency_text) if delinquency_text else None
        if first_delinquency_on is None and delinquency_text:
            _date_error("first_delinquency_on", delinquency_text, fail)

        phone: str | None = None
        raw_phone = get("phone")
        if raw_phone:
            try:
                phone = normalize_phone(raw_phone)
            except IdentityError as exc:
                fail("phone", exc.code, exc.message)

        history = get("payment_history", "").upper()
        if len(history) > MAX_HISTORY_LENGTH:
            fail(
                "payment_history",
                INVALID_FORMAT,
                _MSG_HISTORY_LENGTH,
            )
        elif not _HISTORY_CHARS.issuperset(history):
            fail(
                "payment_history",
                INVALID_FORMAT,
                _MSG_HISTORY_CHARS,
            )

        # Cross-field rules (only between values that parsed).
        if status == "current":
            if days_overdue:
                fail("days_overdue", INCONSISTENT, M.MSG_ZERO_WHEN_CURRENT)
            if amount_overdue:
                fail("amount_overdue", INCONSISTENT, M.MSG_ZERO_WHEN_CURRENT)
        elif status == "overdue" and days_overdue == 0:
            fail(
                "days_overdue",
                INCONSISTENT,
                M.MSG_POSITIVE_WHEN_OVERDUE,
            )
        elif status in _ZERO_BALANCE_STATUSES and balance:
            fail("balance", INCONSISTENT, M.MSG_ZERO_WHEN_SETTLED)
        if days_overdue and amount_overdue == _ZERO:
            fail(
                "amount_overdue",
                INCONSISTENT,
                M.MSG_POSITIVE_WHEN_DAYS,
            )

        if opened_on is not None:
            if as_of is not None and opened_on > as_of:
                fail("opened_on", INCONSISTENT, M.MSG_NOT_AFTER_AS_OF)
            if due_on is not None and due_on < opened_on:
                fail("due_on", INCONSISTENT, M.MSG_NOT_BEFORE_OPENED)
        if first_delinquency_on is not None:
            if as_of is not None and first_delinquency_on > as_of:
                fail(
                    "first_delinquency_on",
                    INCONSISTENT,
                    M.MSG_DELINQUENCY_AFTER_AS_OF,
                )
            if opened_on is not None and first_delinquency_on < opened_on:
                fail(
                    "first_delinquency_on",
                    INCONSISTENT,
                    M.MSG_NOT_BEFORE_OPENED,
                )
        elif (days_overdue or status in _DELINQUENT_STATUSES) and not delinquency_text:
            fail(
                "first_delinquency_on",
                REQUIRED,
                M.MSG_REQUIRED_DELINQUENT,
            )

        if errors:
            return None, errors
        return (
            CleanRow(
                account_no=account_no,
                id_type=id_type,
                id_number=id_number,
                name=name,
                role=role,
                loan_type=loan_type,
                currency=currency,
                principal=principal,
                balance=balance,
                amount_overdue=amount_overdue,
                days_overdue=days_overdue,
                status=status,
                classification=classification or classify(days_overdue),
                opened_on=opened_on,
                due_on=due_on,
                first_delinquency_on=first_delinquency_on,
                as_of=as_of,
                phone=phone,
                payment_history=history,
                action=action,
            ),
            errors,
        )


def _delete_row(account_no: str, id_type: str, id_number: str, as_of: date) -> CleanRow:
    """A delete needs only its key and as_of; other fields are placeholders."""
    return CleanRow(
        account_no=account_no,
        id_type=id_type,
        id_number=id_number,
        name="",
        role="borrower",
        loan_type="",
        currency="CNY",
        principal=_ZERO,
        balance=_ZERO,
        amount_overdue=_ZERO,
        days_overdue=0,
        status="",
        classification="",
        opened_on=as_of,
        due_on=None,
        first_delinquency_on=None,
        as_of=as_of,
        phone=None,
        payment_history="",
        action="delete",
    )


# -- slow paths: report why a value is unusable ------------------------------


def _iso_date(text: str) -> date | None:
    if _DATE_RE.fullmatch(text) is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _date_error(column: str, text: str, fail: _Fail, *, required: bool = False) -> None:
    if text:
        fail(column, INVALID_FORMAT, M.MSG_DATE)
    elif required:
        fail(column, REQUIRED, M.MSG_REQUIRED)


@lru_cache(maxsize=16)
def _one_of(ordered: tuple[str, ...]) -> str:
    return M.fill(M.MSG_ONE_OF, choices=", ".join(ordered))


def _choice_error(column: str, text: str, ordered: tuple[str, ...], fail: _Fail) -> str:
    if text:
        fail(column, INVALID_CHOICE, _one_of(ordered))
    else:
        fail(column, REQUIRED, M.MSG_REQUIRED)
    return ""


def _decimal_slow(column: str, text: str, fail: _Fail) -> Decimal | None:
    if not text:
        fail(column, REQUIRED, M.MSG_REQUIRED)
        return None
    match = _LOOSE_DECIMAL_RE.fullmatch(text)
    if match is None:
        fail(column, INVALID_FORMAT, M.MSG_DECIMAL)
        return None
    sign, whole, fraction = match.groups()
    fraction = (fraction or "").rstrip("0")
    whole = whole.lstrip("0") or "0"
    if sign and (whole != "0" or fraction):
        fail(column, OUT_OF_RANGE, M.MSG_NEGATIVE)
        return None
    if len(fraction) > 2:
        fail(column, INVALID_FORMAT, M.MSG_DECIMAL_PLACES)
        return None
    if len(whole) > 14:
        fail(
            column,
            OUT_OF_RANGE,
            M.MSG_INTEGER_DIGITS,
        )
        return None
    return Decimal(whole + "." + fraction if fraction else whole)


def _days_slow(column: str, text: str, fail: _Fail) -> int | None:
    if not text:
        fail(column, REQUIRED, M.MSG_REQUIRED)
        return None
    digits = text[1:] if text[:1] in "+-" else text
    if not (digits.isascii() and digits.isdigit()):
        fail(column, INVALID_FORMAT, M.MSG_WHOLE_DAYS)
        return None
    days = int(text)
    if not 0 <= days <= MAX_DAYS_OVERDUE:
        fail(column, OUT_OF_RANGE, _MSG_DAYS_RANGE)
        return None
    return days
