"""Synthetic furnishing files (docs/records.md): realistic rows, fast, reproducible.

Pure Python (no Django). Borrowers are shared between members (multi-head
lending): each subject has 1-6 accounts, often at several members; guarantor
and co-borrower rows usually join another subject's account. Every row is valid
for ``RowValidator(today=config.today)`` unless ``error_rate`` asks for defects:
that share of rows carries exactly one defect, the codes taken in turn.
Rows come grouped by subject; a file is one snapshot (each member + account +
person once). A co-obligor row is copied from an earlier yielded row: copy a
row before changing it in place.
"""

from __future__ import annotations

import csv
import gzip as _gzip
import json
import random
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from operator import itemgetter, mul
from pathlib import Path
from typing import TextIO

from bureau.records.fileformat import errors as e
from bureau.records.fileformat.reader import COLUMNS
from bureau.records.fileformat.validation import classify
from bureau.records.identity import resident_id_check_char, uscc_check_char

__all__ = (
    "DEFECT_CODES",
    "GeneratorConfig",
    "corrupt_row",
    "iter_rows",
    "iter_rows_with_defects",
    "synthetic_people",
    "write_file",
    "write_member_files",
)

DEFECT_CODES: tuple[str, ...] = (
    e.REQUIRED,
    e.INVALID_FORMAT,
    e.INVALID_CHECKSUM,
    e.INVALID_CHOICE,
)
DEFECT_CODES += (e.OUT_OF_RANGE, e.INCONSISTENT, e.FUTURE_DATE, e.TOO_OLD)

Row = dict[str, str]
Progress = Callable[[int], None]

# fmt: off
REGIONS = (
    "110101", "110105", "110108", "120101", "130102", "140105", "210102", "220102",
    "230103", "310104", "310115", "320102", "320505", "330106", "330203", "340104",
    "350102", "350203", "360102", "370102", "370202", "410105", "420106", "430104",
    "440106", "440305", "440604", "450103", "500103", "510107", "520102", "530102",
    "610113", "620102",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"  # noqa: E501
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国玉兰志红梅鹏飞宇浩然子轩欣怡佳琪思雨博文晨雪婷俊辉琳颖鑫宁斌亮"  # noqa: E501
FOREIGN_NAMES = ("John Smith", "Maria Garcia", "Kim Min-jun", "Tanaka Yuki",
                 "Anna Müller", "Nguyen Van An", "Ivan Petrov", "Priya Sharma")
FIRM_CITIES = ("北京", "上海", "深圳", "杭州", "成都", "武汉", "南京", "青岛", "厦门", "西安")  # noqa: E501
FIRM_BRANDS = "华信恒通鑫源宏达金泰远航博瑞天成嘉禾瑞丰安盛德隆永泰新宇汇丰"
FIRM_TRADES = ("科技", "贸易", "建材", "物流", "餐饮", "电子", "机械", "食品", "服装", "网络")  # noqa: E501
MOBILE_PREFIXES = [str(n) for n in (*range(130, 140), *range(150, 160), 166, 176, 177,
                                    *range(180, 190), 191, 198, 199) if n != 154]
# status -> share; loan type -> share and (principal low, high, term months low, high)
STATUS_MIX = {"current": .65, "overdue": .18, "default": .06, "written_off": .03,
              "settled": .05, "closed": .03}
LOAN_MIX = {"consumer": .34, "cash": .25, "credit_line": .25, "mortgage": .04,
            "auto": .06, "business": .05, "other": .01}
ROLE_MIX = {"borrower": .88, "co_borrower": .07, "guarantor": .05}
# status -> days overdue (low, span, skew power; 0 = none), balance kept (low; 0 = none)
DELINQUENCY = {"current": (0, 0, 1, .05), "overdue": (1, 300, 5, .2),
               "default": (91, 270, 2, .5), "written_off": (181, 540, 2, .5),
               "settled": (0, 0, 1, 0), "closed": (0, 0, 1, 0)}
LOANS = {"consumer": (500, 20_000, 3, 36), "cash": (1_000, 50_000, 1, 12),
         "credit_line": (5_000, 100_000, 12, 36),
         "mortgage": (80_000, 200_000, 120, 360), "auto": (30_000, 200_000, 12, 60),
         "business": (20_000, 200_000, 12, 60), "other": (1_000, 100_000, 6, 36)}
# fmt: on
MULTI_MEMBER_SHARE = 0.45  # of subjects with 2+ accounts: ~40% of all subjects
SHARED_ACCOUNT_SHARE = 0.7  # co-borrower/guarantor rows joining another's account
PHONE_SHARE = 0.62  # of rows whose subject has a mobile: ~60% of rows
CLASSIFIED_SHARE = 0.15
_BIRTH_FIRST = date(1960, 1, 1).toordinal()
_BIRTH_DAYS = date(2004, 12, 31).toordinal() - _BIRTH_FIRST + 1
_ADULT = 18 * 365 + 5  # days
_SCALE = 1000
_GRID_FIRST = {"settled": "C", "closed": "C", "default": "D", "written_off": "Z"}
_PLAIN_DEFECTS = {
    e.REQUIRED: {"name": ""},
    e.INVALID_CHOICE: {"status": "late"},
    e.OUT_OF_RANGE: {"days_overdue": "10000"},
}
_RESIDENT_CHARS, _USCC_CHARS = "0123456789X", "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass
class GeneratorConfig:
    members: int = 3
    subjects: int = 300_000
    rows: int = 1_000_000
    error_rate: float = 0.0
    seed: int = 0
    today: date | None = None
    member_codes: list[str] | None = None
    payment_history_share: float = 0.3

    def __post_init__(self) -> None:
        if self.member_codes is not None:
            codes = self.member_codes = list(self.member_codes)
            if not codes or len(set(codes)) != len(codes):
                raise ValueError("member_codes must be distinct and not empty.")
            self.members = len(codes)
        if self.members < 1 or self.subjects < 1 or self.rows < 0:
            raise ValueError("members and subjects must be >= 1, rows >= 0.")
        if not (0 <= self.error_rate <= 1 and 0 <= self.payment_history_share <= 1):
            raise ValueError("error_rate and payment_history_share must be 0-1.")

    @property
    def codes(self) -> list[str]:
        """The member codes: ``member_codes`` or ``m1`` ... ``mN``."""
        return self.member_codes or [f"m{i}" for i in range(1, self.members + 1)]


def _table(mix: dict[str, float]) -> list[str]:
    """Lookup table: ``table[int(random() * _SCALE)]`` draws from ``mix``."""
    out: list[str] = []
    total = sum(mix.values())
    for key, share in mix.items():
        out += [key] * round(share / total * _SCALE)
    return (out + [out[-1]] * _SCALE)[:_SCALE]


class _Shuffle:
    """A seeded bijection of range(size): distinct numbers in a random order."""

    def __init__(self, rng: random.Random, size: int) -> None:
        self.size, self.bits = size, size.bit_length()
        self.keys = [
            (rng.getrandbits(self.bits) | 1, rng.getrandbits(60)) for _ in "abc"
        ]

    def __call__(self, i: int) -> int:
        bits, mask = self.bits, (1 << self.bits) - 1
        while True:  # a bijection of [0, 2**bits); walk the cycle back into range
            for times, add in self.keys:
                i = (i * times + add) & mask
                i ^= i >> (bits // 2)
            if i < self.size:
                return i


def _org_check(body8: str) -> str:
    """GB 11714 check character of an 8-digit organisation code."""
    total = sum(map(mul, map(int, body8), (3, 7, 9, 10, 5, 8, 4, 2)))
    return "0123456789X0"[11 - total % 11]


class _People:
    """Subject number i -> (id_type, id_number, name, phone, earliest opening)."""

    def __init__(self, rng: random.Random) -> None:
        self.rand = rng.random
        self.births = [
            date.fromordinal(_BIRTH_FIRST + d).strftime("%Y%m%d")
            for d in range(_BIRTH_DAYS)
        ]
        self.resident = _Shuffle(rng, len(REGIONS) * _BIRTH_DAYS * 1000)
        self.numbers = _Shuffle(rng, 10**8)
        self.surnames = _table({s: 1 / (i + 4) for i, s in enumerate(SURNAMES)})

    def make(self, i: int) -> tuple[str, str, str, str, int]:
        rand = self.rand
        kind = rand()
        if kind < 0.02:
            org = f"{self.numbers(i):08d}"
            body = "91" + REGIONS[int(rand() * len(REGIONS))] + org + _org_check(org)
            firm = FIRM_CITIES[int(rand() * 10)] + self._pick(FIRM_BRANDS, 2)
            firm += FIRM_TRADES[int(rand() * 10)] + "有限公司"
            return "uscc", body + uscc_check_char(body), firm, "", 0
        phone = ""
        if rand() < 0.97:
            phone = MOBILE_PREFIXES[int(rand() * len(MOBILE_PREFIXES))]
            phone += f"{int(rand() * 10**8):08d}"
        if kind < 0.03:
            number = f"{self.numbers(i):08d}"
            if rand() < 0.5:
                return "passport", "E" + number, self._name(), phone, 0
            name = FOREIGN_NAMES[int(rand() * len(FOREIGN_NAMES))]
            return "passport", "GKPS"[int(rand() * 4)] + number, name, phone, 0
        p, seq = divmod(self.resident(i), 1000)
        region, day = divmod(p, _BIRTH_DAYS)
        body = REGIONS[region] + self.births[day] + f"{seq:03d}"
        number = body + resident_id_check_char(body)
        return "resident_id", number, self._name(), phone, _BIRTH_FIRST + day + _ADULT

    def _name(self) -> str:
        given = 1 if self.rand() < 0.3 else 2
        return self.surnames[int(self.rand() * _SCALE)] + self._pick(GIVEN, given)

    def _pick(self, chars: str, n: int) -> str:
        return "".join(chars[int(self.rand() * len(chars))] for _ in range(n))


def synthetic_people(seed: int, count: int) -> list[tuple[str, str, str, str, int]]:
    """The first ``count`` test identities of ``seed``: (id_type, id_number, name,
    phone, ordinal of the 18th birthday or 0). Valid checksums, distinct numbers;
    the first ``n`` are the same whatever ``count`` (person i is always person i)."""
    people = _People(random.Random(seed))
    return [people.make(i) for i in range(count)]


def _account_count(
    rand: Callable[[], float], rows_left: int, subjects_left: int
) -> int:
    """1-6 accounts whose mean keeps the total exactly ``rows``."""
    if subjects_left <= 1:
        return rows_left
    mean = rows_left / subjects_left
    if 3.5 < mean <= 6:
        k = 6 - int(rand() * 2 * (6 - mean) + rand())
    else:
        k = 1 + int(rand() * 2 * (mean - 1) + rand())
    return max(1, min(k, rows_left - subjects_left + 1))


def _history(status: str, days: int, length: int, months_open: int, rand) -> str:
    """Payment grid, most recent first, consistent with status and days overdue."""
    if status == "current":
        grid = ["N"] * length
        if rand() < 0.1:  # an old, cured delinquency
            grid[1 + int(rand() * (length - 1))] = "1"
    else:
        grid = [_GRID_FIRST.get(status) or str(min(7, (days - 1) // 30 + 1))]
        for month in range(1, length):
            late = days - 30 * month
            grid.append(str(min(7, (late - 1) // 30 + 1)) if late > 0 else "N")
    for month in range(months_open + 1, length):
        grid[month] = "/"  # not yet open
    return "".join(grid)


def iter_rows_with_defects(
    config: GeneratorConfig,
) -> Iterator[tuple[str, Row, str | None]]:
    """Yield (member_code, row, injected defect code or None), deterministically."""
    rng = random.Random(config.seed)
    rand = rng.random
    today = config.today or date.today()
    t = today.toordinal()
    base = t - 13 * 366  # too_old rows reach 12 years back; mortgages 30 ahead
    iso = [date.fromordinal(o).isoformat() for o in range(base, t + 32 * 366)]
    people = _People(rng)
    codes = config.codes
    n_members = len(codes)
    member_table = _table({str(i): 1 / (1 + 0.3 * i) for i in range(n_members)})
    prefixes = [("".join(c for c in code.upper() if c.isalnum()) or "AC")[:6] + "-"
                for code in codes]  # fmt: skip
    seqs = [0] * n_members
    last_account: list[Row | None] = [None] * n_members
    status_t, loan_t, role_t = _table(STATUS_MIX), _table(LOAN_MIX), _table(ROLE_MIX)
    history_share, classified = config.payment_history_share, CLASSIFIED_SHARE
    error_rate, error_acc, defects = config.error_rate, rand(), 0
    subjects = min(config.subjects, config.rows)
    rows_left = config.rows
    for s in range(subjects):
        k = _account_count(rand, rows_left, subjects - s)
        rows_left -= k
        id_type, id_number, name, phone, adult = people.make(s)
        home = int(member_table[int(rand() * _SCALE)])
        members = [home] * k
        if k >= 2 and n_members >= 2 and rand() < MULTI_MEMBER_SHARE:
            members[1] = (home + 1 + int(rand() * (n_members - 1))) % n_members
            for j in range(2, k):
                members[j] = int(rand() * n_members)
        for m in members:
            role = role_t[int(rand() * _SCALE)] if id_type != "uscc" else "borrower"
            shared = last_account[m]
            if (
                role != "borrower"
                and shared is not None
                and shared["id_number"] != id_number
                and rand() < SHARED_ACCOUNT_SHARE
            ):
                row = shared.copy()
                row["id_type"], row["id_number"], row["name"] = id_type, id_number, name
                row["role"] = role
                row["phone"] = phone if phone and rand() < PHONE_SHARE else ""
                last_account[m] = None  # one co-obligor per account
            else:
                status = status_t[int(rand() * _SCALE)]
                loan_type = loan_t[int(rand() * _SCALE)]
                if id_type == "uscc":
                    loan_type = "business" if rand() < 0.8 else "credit_line"
                low, high, term_low, term_high = LOANS[loan_type]
                as_of = t - int(rand() * 60)
                opened = as_of - 365 - int(rand() * 1826)
                if opened < adult <= as_of - 365:
                    opened = adult
                u = rand()
                principal = int(low * (high / low) ** (u * u) * 100)
                if loan_type != "consumer":
                    principal -= principal % 10_000
                months = term_low + int(rand() * (term_high - term_low + 1))
                due = opened + int(months * 30.44)
                days_low, days_span, skew, kept = DELINQUENCY[status]
                balance = int(principal * (kept + (1 - kept) * rand())) if kept else 0
                days = 0
                if days_low:
                    days = min(
                        days_low + int(days_span * rand() ** skew), as_of - opened
                    )
                    balance = max(balance, 1)
                elif status == "current" and due <= as_of:
                    due = as_of + 30 + int(rand() * 330)
                if days:
                    if status == "overdue":
                        owed = principal // months * (1 + days // 30)
                        overdue = min(balance, max(owed, 100))
                    else:
                        overdue = balance
                    amount_overdue = f"{overdue // 100}.{overdue % 100:02d}"
                else:
                    amount_overdue = "0"
                opened_on = iso[opened - base]
                due_on = iso[due - base]
                if loan_type == "credit_line" and rand() < 0.3:
                    due_on = ""  # revolving
                history = ""
                if rand() < history_share:
                    length, months_open = 6 + int(rand() * 19), (as_of - opened) // 30
                    history = _history(status, days, length, months_open, rand)
                seqs[m] += 1
                row = {
                    "account_no": f"{prefixes[m]}{opened_on[:4]}-{seqs[m]:07d}",
                    "id_type": id_type,
                    "id_number": id_number,
                    "name": name,
                    "role": "" if role == "borrower" and rand() < 0.5 else role,
                    "loan_type": loan_type,
                    "currency": "CNY" if rand() < 0.9 else "",
                    "principal": f"{principal // 100}.{principal % 100:02d}",
                    "balance": f"{balance // 100}.{balance % 100:02d}",
                    "amount_overdue": amount_overdue,
                    "days_overdue": str(days),
                    "status": status,
                    "classification": classify(days) if rand() < classified else "",
                    "opened_on": opened_on,
                    "due_on": due_on,
                    "first_delinquency_on": iso[as_of - days - base] if days else "",
                    "as_of": iso[as_of - base],
                    "phone": phone if phone and rand() < PHONE_SHARE else "",
                    "payment_history": history,
                    "action": "",
                }
                if role == "borrower":
                    last_account[m] = row
            error_acc += error_rate
            if error_acc >= 1:
                error_acc -= 1
                code = DEFECT_CODES[defects % len(DEFECT_CODES)]
                defects += 1
                row = _corrupt(row.copy(), code, rand, today)
                yield codes[m], row, code
            else:
                yield codes[m], row, None


def _corrupt(row: Row, code: str, rand: Callable[[], float], today: date) -> Row:
    """Give ``row`` exactly one defect: it fails validation with ``code`` only."""
    if code in _PLAIN_DEFECTS:
        row.update(_PLAIN_DEFECTS[code])
    elif code == e.INVALID_FORMAT:
        row["opened_on"] = row["opened_on"].replace("-", "/")
    elif code == e.INVALID_CHECKSUM:
        number = row["id_number"]
        if row["id_type"] == "passport":  # no checksum: report a resident id
            row["id_type"] = "resident_id"
            number = "110105" + "19800101" + number[-3:] + "0"
            number = number[:17] + resident_id_check_char(number[:17])
        chars = _RESIDENT_CHARS if row["id_type"] == "resident_id" else _USCC_CHARS
        wrong = chars.index(number[17]) + 1 + int(rand() * (len(chars) - 1))
        row["id_number"] = number[:17] + chars[wrong % len(chars)]
    elif code == e.INCONSISTENT:
        as_of = date.fromisoformat(row["as_of"]).toordinal()
        row.update(status="current", days_overdue="5", classification="")
        row["first_delinquency_on"] = date.fromordinal(as_of - 5).isoformat()
    elif code == e.FUTURE_DATE:
        row["as_of"] = date.fromordinal(today.toordinal() + 1).isoformat()
    elif code == e.TOO_OLD:  # six years ago; move the other dates along
        try:
            target = today.replace(year=today.year - 6)
        except ValueError:
            target = today.replace(year=today.year - 6, day=28)
        shift = date.fromisoformat(row["as_of"]).toordinal() - target.toordinal()
        for column in ("opened_on", "due_on", "first_delinquency_on", "as_of"):
            if row[column]:
                day = date.fromisoformat(row[column]).toordinal() - shift
                row[column] = date.fromordinal(day).isoformat()
    return row


def corrupt_row(row: Row, code: str, rng: random.Random, today: date) -> Row:
    """A copy of a valid ``row`` with exactly one defect of ``DEFECT_CODES``."""
    if code not in DEFECT_CODES:
        raise ValueError(f"Unknown defect {code!r}.")
    return _corrupt(row.copy(), code, rng.random, today)


def iter_rows(config: GeneratorConfig) -> Iterator[tuple[str, Row]]:
    """Yield (member_code, row): docs/records.md columns, all values strings."""
    for code, row, _defect in iter_rows_with_defects(config):
        yield code, row


def _open(path: Path, gzip: bool) -> TextIO:
    if gzip:
        return _gzip.open(path, "wt", encoding="utf-8", newline="", compresslevel=1)
    return open(path, "w", encoding="utf-8", newline="", buffering=1 << 20)


def _row_writer(fh: TextIO, fmt: str) -> Callable[[Row], object]:
    """Write the header (CSV) and return a function writing one row."""
    if fmt == "csv":
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        writerow, cells = writer.writerow, itemgetter(*COLUMNS)
        return lambda row: writerow(cells(row))
    if fmt == "jsonl":
        encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        write = fh.write
        return lambda row: write(encode(row) + "\n")  # rows keep COLUMNS order
    raise ValueError(f"Unknown format {fmt!r}: use csv or jsonl.")


def _write(
    config: GeneratorConfig, sinks: dict[str, Callable[[Row], object]], progress
) -> int:
    written = 0
    for generated, (code, row) in enumerate(iter_rows(config), 1):
        sink = sinks.get(code)
        if sink is not None:
            sink(row)
            written += 1
        if progress is not None and not generated & 0x3FFF:
            progress(generated)
    if progress is not None:
        progress(config.rows)
    return written


def write_file(
    config: GeneratorConfig,
    path: str | Path,
    *,
    fmt: str = "csv",
    member_code: str | None = None,
    gzip: bool = False,
    progress: Progress | None = None,
) -> int:
    """Write the rows (only ``member_code``'s when given); return how many.

    ``progress(generated)`` is called now and then with the number of rows
    generated so far, out of ``config.rows``.
    """
    if member_code is not None and member_code not in config.codes:
        raise ValueError(f"Unknown member code {member_code!r}.")
    with _open(Path(path), gzip) as fh:
        write = _row_writer(fh, fmt)
        codes = config.codes if member_code is None else [member_code]
        return _write(config, dict.fromkeys(codes, write), progress)


def write_member_files(
    config: GeneratorConfig,
    out_dir: str | Path,
    fmt: str = "csv",
    *,
    gzip: bool = False,
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Write ``<code>.<fmt>`` (``.gz`` added when gzip) per member in one pass."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    suffix = f".{fmt}.gz" if gzip else f".{fmt}"
    paths = {code: out / f"{code}{suffix}" for code in config.codes}
    with ExitStack() as stack:
        sinks = {
            code: _row_writer(stack.enter_context(_open(path, gzip)), fmt)
            for code, path in paths.items()
        }
        _write(config, sinks, progress)
    return paths
