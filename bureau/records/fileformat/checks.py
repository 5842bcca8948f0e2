"""The checks of one row, one function per check (RowValidator runs them in turn).

Each takes the row's text (NFKC-normalised and stripped) and `fail`, which records
one RowError; it returns the typed value, or None (or "") when the text is
unusable. The happy path of each is one pattern match or set lookup; only a value
that fails takes the slow path that says why. The order RowValidator calls them
in is the order of a row's errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import lru_cache

from bureau.records.fileformat import messages as M
from bureau.records.fileformat.errors import (
    FUTURE_DATE,
    INCONSISTENT,
    INVALID_CHOICE,
    INVALID_FORMAT,
    OUT_OF_RANGE,
    REQUIRED,
    TOO_OLD,
)
from bureau.records.identity import (
    ID_TYPES,
    IdentityError,
    holds_identity,
    normalize_identity,
    normalize_phone,
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

MAX_NAME_LENGTH = 100
MAX_DAYS_OVERDUE = 9999
MAX_HISTORY_LENGTH = 24
MAX_AGE_YEARS = 5
PAYMENT_HISTORY_CHARS = "N1234567CGDZ#*/"

# fail(column, code, message) records one RowError for the row being checked.
Fail = Callable[[str, str, str], None]
# get(column, default) reads the row's normalised text.
Get = Callable[[str, str], str]

_ID_TYPES = frozenset(ID_TYPES)
_DELINQUENT_STATUSES = frozenset({"overdue", "default", "written_off"})
_ZERO_BALANCE_STATUSES = frozenset({"settled", "closed"})
_HISTORY_CHARS = frozenset(PAYMENT_HISTORY_CHARS)
_ACTIONS = frozenset(ACTIONS)
_ROLES = frozenset(ROLES)
_LOAN_TYPES = frozenset(LOAN_TYPES)
_STATUSES = frozenset(STATUSES)
_CLASSIFICATIONS = frozenset(CLASSIFICATIONS)

_ACCOUNT_RE = re.compile(r"[A-Za-z0-9\-_/]{1,64}")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DECIMAL_OK = re.compile(r"[0-9]{1,14}(?:\.[0-9]{1,2})?").fullmatch
_LOOSE_DECIMAL_RE = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
ZERO = Decimal(0)

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


def check_action(get: Get, fail: Fail) -> str:
    action = get("action", "").lower() or "upsert"
    if action not in _ACTIONS:
        fail("action", INVALID_CHOICE, M.MSG_ACTION)
        return "upsert"
    return action


def check_account_no(get: Get, fail: Fail) -> str:
    account_no = get("account_no", "")
    if not account_no:
        fail("account_no", REQUIRED, M.MSG_REQUIRED)
    elif _ACCOUNT_RE.fullmatch(account_no) is None:
        fail("account_no", INVALID_FORMAT, M.MSG_ACCOUNT_NO)
    elif len(account_no) >= _SHORTEST_IDENTITY and holds_identity(account_no):
        fail("account_no", INVALID_FORMAT, MSG_NO_IDENTITY)
    return account_no


def check_identity(get: Get, fail: Fail, today: date) -> tuple[str, str]:
    """(id_type, normalised id_number); the number is checked (format, checksum,
    birth date) only when its type is known."""
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
            id_number = normalize_identity(id_type, raw_id, today=today)
        except IdentityError as exc:
            fail("id_number", exc.code, exc.message)
    return id_type, id_number


def check_as_of(get: Get, fail: Fail, today: date, oldest: date) -> date | None:
    text = get("as_of", "")
    as_of = iso_date(text)
    if as_of is None:
        _date_error("as_of", text, fail, required=True)
    elif as_of > today:
        fail("as_of", FUTURE_DATE, M.MSG_FUTURE)
    elif as_of < oldest:
        fail("as_of", TOO_OLD, _MSG_TOO_OLD)
    return as_of


def check_name(get: Get, fail: Fail) -> str:
    name = get("name", "")
    if not name:
        fail("name", REQUIRED, M.MSG_REQUIRED)
    elif len(name) > MAX_NAME_LENGTH:
        fail("name", INVALID_FORMAT, _MSG_NAME_LENGTH)
    elif not name.isprintable():
        fail("name", INVALID_FORMAT, M.MSG_CONTROL_CHARS)
    elif len(name) >= _SHORTEST_IDENTITY and holds_identity(name):
        fail("name", INVALID_FORMAT, MSG_NO_IDENTITY)
    return name


def check_choices(get: Get, fail: Fail) -> tuple[str, str, str, str]:
    """(role, loan_type, status, classification); "" for one that fails. A role
    defaults to borrower; a classification may be empty (derived later)."""
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
    return role, loan_type, status, classification


def check_currency(get: Get, fail: Fail) -> str:
    currency = get("currency", "").upper() or "CNY"
    if _CURRENCY_RE.fullmatch(currency) is None:
        fail("currency", INVALID_FORMAT, M.MSG_CURRENCY)
    return currency


def check_amounts(get: Get, fail: Fail) -> tuple[Decimal | None, ...]:
    """(principal, balance, amount_overdue): at most 14 digits and 2 decimals."""
    ok = _DECIMAL_OK
    text = get("principal", "")
    principal = Decimal(text) if ok(text) else _decimal_slow("principal", text, fail)
    text = get("balance", "")
    balance = Decimal(text) if ok(text) else _decimal_slow("balance", text, fail)
    text = get("amount_overdue", "")
    overdue = Decimal(text) if ok(text) else _decimal_slow("amount_overdue", text, fail)
    return principal, balance, overdue


def check_days_overdue(get: Get, fail: Fail) -> int | None:
    text = get("days_overdue", "")
    if 0 < len(text) <= 4 and text.isascii() and text.isdigit():
        return int(text)
    return _days_slow("days_overdue", text, fail)


def check_dates(get: Get, fail: Fail) -> tuple[date | None, ...]:
    """(opened_on, due_on, first_delinquency_on); None: empty or invalid. Only
    opened_on is required."""
    text = get("opened_on", "")
    opened_on = iso_date(text)
    if opened_on is None:
        _date_error("opened_on", text, fail, required=True)
    text = get("due_on", "")
    due_on = iso_date(text) if text else None
    if due_on is None and text:
        _date_error("due_on", text, fail)
    text = get("first_delinquency_on", "")
    delinquency = iso_date(text) if text else None
    if delinquency is None and text:
        _date_error("first_delinquency_on", text, fail)
    return opened_on, due_on, delinquency


def check_phone(get: Get, fail: Fail) -> str | None:
    raw_phone = get("phone", "")
    if not raw_phone:
        return None
    try:
        return normalize_phone(raw_phone)
    except IdentityError as exc:
        fail("phone", exc.code, exc.message)
        return None


def check_payment_history(get: Get, fail: Fail) -> str:
    history = get("payment_history", "").upper()
    if len(history) > MAX_HISTORY_LENGTH:
        fail("payment_history", INVALID_FORMAT, _MSG_HISTORY_LENGTH)
    elif not _HISTORY_CHARS.issuperset(history):
        fail("payment_history", INVALID_FORMAT, _MSG_HISTORY_CHARS)
    return history


def check_status_amounts(
    fail: Fail,
    status: str,
    days_overdue: int | None,
    amount_overdue: Decimal | None,
    balance: Decimal | None,
) -> None:
    """Status against days and amounts overdue and the balance (only between
    values that parsed)."""
    if status == "current":
        if days_overdue:
            fail("days_overdue", INCONSISTENT, M.MSG_ZERO_WHEN_CURRENT)
        if amount_overdue:
            fail("amount_overdue", INCONSISTENT, M.MSG_ZERO_WHEN_CURRENT)
    elif status == "overdue" and days_overdue == 0:
        fail("days_overdue", INCONSISTENT, M.MSG_POSITIVE_WHEN_OVERDUE)
    elif status in _ZERO_BALANCE_STATUSES and balance:
        fail("balance", INCONSISTENT, M.MSG_ZERO_WHEN_SETTLED)
    if days_overdue and amount_overdue == ZERO:
        fail("amount_overdue", INCONSISTENT, M.MSG_POSITIVE_WHEN_DAYS)


def check_date_order(
    fail: Fail,
    opened_on: date | None,
    due_on: date | None,
    first_delinquency_on: date | None,
    as_of: date | None,
    status: str,
    days_overdue: int | None,
    delinquency_given: bool,
) -> None:
    """Opened before as_of and due; first delinquency between opening and as_of,
    and given when the account is delinquent (only between dates that parsed)."""
    if opened_on is not None:
        if as_of is not None and opened_on > as_of:
            fail("opened_on", INCONSISTENT, M.MSG_NOT_AFTER_AS_OF)
        if due_on is not None and due_on < opened_on:
            fail("due_on", INCONSISTENT, M.MSG_NOT_BEFORE_OPENED)
    if first_delinquency_on is not None:
        if as_of is not None and first_delinquency_on > as_of:
            fail("first_delinquency_on", INCONSISTENT, M.MSG_DELINQUENCY_AFTER_AS_OF)
        if opened_on is not None and first_delinquency_on < opened_on:
            fail("first_delinquency_on", INCONSISTENT, M.MSG_NOT_BEFORE_OPENED)
    elif (days_overdue or status in _DELINQUENT_STATUSES) and not delinquency_given:
        fail("first_delinquency_on", REQUIRED, M.MSG_REQUIRED_DELINQUENT)


# -- slow paths: report why a value is unusable ------------------------------


def iso_date(text: str) -> date | None:
    if _DATE_RE.fullmatch(text) is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _date_error(column: str, text: str, fail: Fail, *, required: bool = False) -> None:
    if text:
        fail(column, INVALID_FORMAT, M.MSG_DATE)
    elif required:
        fail(column, REQUIRED, M.MSG_REQUIRED)


@lru_cache(maxsize=16)
def _one_of(ordered: tuple[str, ...]) -> str:
    return M.fill(M.MSG_ONE_OF, choices=", ".join(ordered))


def _choice_error(column: str, text: str, ordered: tuple[str, ...], fail: Fail) -> str:
    if text:
        fail(column, INVALID_CHOICE, _one_of(ordered))
    else:
        fail(column, REQUIRED, M.MSG_REQUIRED)
    return ""


def _decimal_slow(column: str, text: str, fail: Fail) -> Decimal | None:
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
        fail(column, OUT_OF_RANGE, M.MSG_INTEGER_DIGITS)
        return None
    return Decimal(whole + "." + fraction if fraction else whole)


def _days_slow(column: str, text: str, fail: Fail) -> int | None:
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
