"""The demo's furnishing history: who borrowed where, and how each loan went.

Pure Python (no Django) and deterministic: the same seed gives the same persons,
accounts and paths whatever the day, only the dates move with `today` (every date
is an offset from it). A path is a list of delinquency episodes on top of an
amortising loan: paid on time, slipping (1 → 2 → 3 months late, still going),
cured back to current, defaulted (status `default` past 90 days), written off
(past 180 days), settled after a delinquency, or closed (paid off or matured).
`Account.row(day)` is the account as its furnisher reports it on that day,
valid for docs/records.md; `payment_history` carries the months before it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from bureau.records.generator import synthetic_people
from bureau.records.history import GRID_MONTHS, month_status

SEED = 2026
PERSONS = 320  # furnished persons; the next MISSES identities are never furnished
MISSES = 160

# code, name, kind, months before this month of its first (backfill) batch,
# weekday it furnishes on in the last weeks (0 = Monday), share of accounts.
MEMBERS = (
    ("anxin", "安信消费金融 Anxin Consumer Finance", "consumer_finance", 11, 0, 0.3),
    ("huixin", "汇信小贷 Huixin Micro-lending", "micro_lender", 10, 1, 0.25),
    ("jieyi", "捷易助贷 Jieyi Loan Services", "loan_facilitator", 9, 2, 0.2),
    ("ronghui", "融汇银行 Ronghui Bank", "bank", 7, 3, 0.15),
    ("yiqian", "易前消费金融 Yiqian Consumer Finance", "consumer_finance", 4, 4, 0.1),
)
CODES = tuple(member[0] for member in MEMBERS)

# path -> share of the accounts drawn at random (the showcase persons' are fixed)
PATHS = {
    "on_time": 0.50,
    "paid_off": 0.08,
    "slipping": 0.09,
    "cured": 0.12,
    "default": 0.08,
    "written_off": 0.05,
    "settled": 0.08,
}
LOANS = {  # loan type -> share, principal low/high (yuan), term months low/high
    "consumer": (0.34, 2_000, 30_000, 6, 36),
    "cash": (0.25, 1_000, 50_000, 3, 12),
    "credit_line": (0.25, 5_000, 100_000, 12, 36),
    "auto": (0.08, 30_000, 200_000, 24, 60),
    "business": (0.08, 50_000, 300_000, 12, 60),
}
ACCOUNTS_PER_PERSON = (1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4)
MULTI_MEMBER_SHARE = 0.5  # persons with 2+ accounts borrowing at 2+ members
GUARANTEED_SHARE = 0.04  # accounts with a guarantor (another person's row)


@dataclass(frozen=True)
class Person:
    index: int
    id_type: str
    id_number: str
    name: str
    phone: str
    adult: int  # ordinal of the 18th birthday; 0 for a firm


@dataclass
class Episode:
    start: int  # ordinal of the first day overdue
    end: int | None  # ordinal of the day it ended; None: still going
    outcome: str  # "cure", "settle", or "default" / "write_off" / "overdue" (ongoing)


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, 28))


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_end(index: int) -> date:
    year, month = divmod(index + 1, 12)
    return date.fromordinal(date(year, month + 1, 1).toordinal() - 1)


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass
class Account:
    member: str
    account_no: str
    borrower: Person
    path: str
    loan_type: str
    principal: int  # cents
    opened: int  # ordinal
    term: int  # months
    episodes: list[Episode] = field(default_factory=list)
    closed: int | None = None  # ordinal it was paid off (status closed)
    guarantor: Person | None = None
    _month_chars: dict[int, str] = field(default_factory=dict, repr=False)

    @property
    def revolving(self) -> bool:
        return self.loan_type == "credit_line"

    def _balance(self, day: int) -> int:
        months = (day - self.opened) // 30
        if self.revolving:  # a utilisation that moves from month to month
            use = 30 + (self.opened * 7 + months * 37) % 61
            return self.principal * use // 100
        left = max(1, self.term - months)
        return max(100, self.principal * left // self.term)

    def state(self, day: int) -> dict | None:
        """status, days_overdue, balance, amount_overdue (cents) on `day`."""
        if day < self.opened:
            return None
        if self.closed is not None and day >= self.closed:
            return {"status": "closed", "days": 0, "balance": 0, "overdue": 0}
        for episode in self.episodes:
            if episode.start <= day and (episode.end is None or day < episode.end):
                days = min(9999, day - episode.start + 1)
                balance = self._balance(episode.start)
                status = "overdue"
                if episode.outcome in ("default", "write_off") and days > 90:
                    status = "default"
                if episode.outcome == "write_off" and days > 180:
                    status = "written_off"
                owed = balance
                if status == "overdue":
                    installment = max(self.principal // self.term, 10_000)
                    owed = min(balance, installment * ((days - 1) // 30 + 1))
                return {"status": status, "days": days, "balance": balance,
                        "overdue": owed}  # fmt: skip
            settled = episode.outcome == "settle" and episode.end is not None
            if settled and episode.end is not None and day >= episode.end:
                return {"status": "settled", "days": 0, "balance": 0, "overdue": 0}
        return {"status": "current", "days": 0, "balance": self._balance(day),
                "overdue": 0}  # fmt: skip

    def grid_char(self, day: int) -> str:
        state = self.state(day)
        return "/" if state is None else month_status(state["status"], state["days"])

    def payment_history(self, as_of: date) -> str:
        """The month of `as_of` and up to 23 before it, most recent first, each
        month as it stood at its end (docs/records.md, the 24-month history)."""
        now, opened = month_index(as_of), month_index(date.fromordinal(self.opened))
        months = min(GRID_MONTHS, now - opened + 1)
        chars = [self.grid_char(as_of.toordinal())]
        for back in range(1, months):
            char = self._month_chars.get(now - back)
            if char is None:  # a past month's end does not change: computed once
                char = self.grid_char(month_end(now - back).toordinal())
                self._month_chars[now - back] = char
            chars.append(char)
        return "".join(chars)

    def rows(self, as_of: date) -> list[dict[str, str]]:
        """The borrower's row (and the guarantor's) as furnished on `as_of`."""
        day = as_of.toordinal()
        state = self.state(day)
        if state is None:
            return []
        first = ""
        if state["days"]:
            first = date.fromordinal(self.episodes[0].start).isoformat()
        due_on = ""
        if not self.revolving:
            due_on = _add_months(date.fromordinal(self.opened), self.term).isoformat()
        base = {
            "account_no": self.account_no,
            "loan_type": self.loan_type,
            "currency": "CNY",
            "principal": _money(self.principal),
            "balance": _money(state["balance"]),
            "amount_overdue": _money(state["overdue"]),
            "days_overdue": str(state["days"]),
            "status": state["status"],
            "classification": "",
            "opened_on": date.fromordinal(self.opened).isoformat(),
            "due_on": due_on,
            "first_delinquency_on": first,
            "as_of": as_of.isoformat(),
            "payment_history": self.payment_history(as_of),
            "action": "",
        }
        people = [(self.borrower, "borrower")]
        if self.guarantor is not None:
            people.append((self.guarantor, "guarantor"))
        return [
            {
                **base,
                "id_type": person.id_type,
                "id_number": person.id_number,
                "name": person.name,
                "role": role,
                "phone": person.phone,
            }
            for person, role in people
        ]


@dataclass
class Portfolio:
    today: date
    persons: list[Person]  # furnished
    misses: list[Person]  # valid identities never furnished
    accounts: list[Account]
    showcase: dict[str, Person]  # clean, multi, blacklisted, dispute_1 … dispute_5
    special: dict[str, Account]  # the accounts the demo's disputes are about


def demo_people(seed: int = SEED) -> tuple[list[Person], list[Person]]:
    """(furnished persons, never-furnished persons): the same for a seed, always."""
    people = [
        Person(i, *values)
        for i, values in enumerate(synthetic_people(seed, PERSONS + MISSES))
    ]
    return people[:PERSONS], people[PERSONS:]


def showcase_order(persons: list[Person]) -> list[Person]:
    """The persons given fixed paths: the first resident ids born before 2000."""
    return [
        p
        for p in persons
        if p.id_type == "resident_id" and p.id_number[6:10] < "2000" and p.phone
    ][:8]


class _Builder:
    def __init__(self, today: date, seed: int) -> None:
        self.t = today.toordinal()
        self.rng = random.Random(seed + 1)
        self.seqs = dict.fromkeys(CODES, 0)
        self.accounts: list[Account] = []
        self.member_table = [
            code for code, *_, share in MEMBERS for _ in range(round(share * 100))
        ]
        self.loan_table = [
            loan
            for loan, (share, *_) in LOANS.items()
            for _ in range(round(share * 100))
        ]
        self.path_table = [
            path for path, share in PATHS.items() for _ in range(round(share * 100))
        ]

    def account(
        self,
        person: Person,
        member: str,
        path: str,
        *,
        loan_type: str | None = None,
        opened_back: int | None = None,
        start_back: int | None = None,
        length: int | None = None,
    ) -> Account:
        rand, t = self.rng.random, self.t
        loan_type = loan_type or self.rng.choice(self.loan_table)
        if person.id_type == "uscc":
            loan_type = "business"
        _, low, high, term_low, term_high = LOANS[loan_type]
        principal = int(low * (high / low) ** (rand() ** 2)) * 100
        principal -= principal % 10_000
        term = self.rng.randint(term_low, term_high)
        if opened_back is None:
            recent = path == "on_time" and rand() < 0.2
            opened_back = self.rng.randint(15, 330) if recent else 0
            opened_back = opened_back or self.rng.randint(240, 1300)
        opened = max(t - opened_back, person.adult)
        self.seqs[member] += 1
        prefix = member.upper()[:4]
        year = date.fromordinal(opened).year
        account = Account(
            member=member,
            account_no=f"{prefix}-{year}-{self.seqs[member]:06d}",
            borrower=person,
            path=path,
            loan_type=loan_type,
            principal=max(principal, 100_000),
            opened=opened,
            term=term,
        )
        self._path(account, start_back=start_back, length=length)
        self.accounts.append(account)
        return account

    def _path(self, a: Account, *, start_back: int | None, length: int | None) -> None:
        rand, randint, t = self.rng.random, self.rng.randint, self.t
        matures = _add_months(date.fromordinal(a.opened), a.term).toordinal()
        path = a.path
        ranges = {  # days before today that the (first) episode starts
            "slipping": (8, 85),
            "cured": (70, 600),
            "default": (120, 420),
            "written_off": (220, 620),
            "settled": (120, 600),
        }
        if path in ranges:
            low, high = ranges[path]
            start = t - (start_back if start_back is not None else randint(low, high))
            if start < a.opened + 45:
                start = a.opened + 45
            if start > t - low:
                path = a.path = "on_time"  # opened too recently for this path
        if path == "on_time":
            if not a.revolving and matures <= t - 1:
                a.closed = matures
        elif path == "paid_off":
            if a.opened + 90 < t - 20:
                a.closed = randint(a.opened + 90, t - 20)
            else:
                a.path = "on_time"
        elif path == "slipping":
            a.episodes.append(Episode(start, None, "overdue"))
        elif path == "cured":
            end = start + (length or randint(12, 75))
            a.episodes.append(Episode(start, min(end, t - 5), "cure"))
            if rand() < 0.3 and end + 120 < t - 30:  # slipped again later
                again = randint(end + 90, t - 30)
                a.episodes.append(Episode(again, again + randint(8, 28), "cure"))
        elif path == "default":
            a.episodes.append(Episode(start, None, "default"))
        elif path == "written_off":
            a.episodes.append(Episode(start, None, "write_off"))
        elif path == "settled":
            end = min(start + (length or randint(40, 200)), t - 3)
            a.episodes.append(Episode(start, end, "settle"))
        if a.closed is not None and a.episodes:
            a.closed = None


def build_portfolio(today: date, seed: int = SEED) -> Portfolio:
    """Every account of the demo, its path fixed by `seed`, its dates by `today`."""
    persons, misses = demo_people(seed)
    b = _Builder(today, seed)
    show = showcase_order(persons)
    names = ["clean", "multi", "blacklisted"] + [f"dispute_{i}" for i in range(1, 6)]
    showcase = dict(zip(names, show, strict=False))
    clean, multi, black = show[0], show[1], show[2]
    b.account(clean, "anxin", "on_time", loan_type="credit_line", opened_back=900)
    b.account(clean, "anxin", "paid_off", loan_type="cash", opened_back=700)
    b.account(multi, "anxin", "on_time", loan_type="consumer", opened_back=800)
    b.account(multi, "huixin", "slipping", loan_type="cash", opened_back=400,
              start_back=33)  # fmt: skip
    b.account(multi, "jieyi", "cured", loan_type="consumer", opened_back=650,
              start_back=260, length=40)  # fmt: skip
    b.account(multi, "ronghui", "on_time", loan_type="credit_line", opened_back=1000)
    b.account(black, "huixin", "default", loan_type="cash", opened_back=700,
              start_back=300)  # fmt: skip
    b.account(black, "jieyi", "written_off", loan_type="consumer", opened_back=900,
              start_back=420)  # fmt: skip
    b.account(black, "anxin", "slipping", loan_type="credit_line", opened_back=1100,
              start_back=70)  # fmt: skip
    # The disputes' accounts (activity.py): settled while reported overdue, a
    # confirmed default, an overdue record, two recent claims.
    special = {
        "corrected": b.account(show[3], "huixin", "settled", loan_type="cash",
                               opened_back=500, start_back=70, length=46),
        "confirmed": b.account(show[4], "jieyi", "default", loan_type="consumer",
                               opened_back=800, start_back=200),
        "suppressed": b.account(show[5], "anxin", "slipping", loan_type="consumer",
                                opened_back=600, start_back=60),
        "open": b.account(show[6], "ronghui", "cured", loan_type="auto",
                          opened_back=700, start_back=150, length=30),
        "due_soon": b.account(show[7], "yiqian", "slipping", loan_type="cash",
                              opened_back=300, start_back=45),
    }  # fmt: skip
    b.account(show[3], "anxin", "on_time", loan_type="consumer", opened_back=450)
    fixed = {p.index for p in show}
    for person in persons:
        if person.index in fixed:
            continue
        k = b.rng.choice(ACCOUNTS_PER_PERSON)
        home = b.rng.choice(b.member_table)
        members = [home] * k
        if k >= 2 and b.rng.random() < MULTI_MEMBER_SHARE:
            others = [code for code in CODES if code != home]
            members[1:] = [b.rng.choice(others) for _ in range(k - 1)]
        for member in members:
            b.account(person, member, b.rng.choice(b.path_table))
    plain = [p for p in persons if p.index not in fixed and p.id_type != "uscc"]
    for account in b.accounts:
        if account.borrower.index in fixed or b.rng.random() >= GUARANTEED_SHARE:
            continue
        guarantor = b.rng.choice(plain)
        if guarantor is not account.borrower:
            account.guarantor = guarantor
    return Portfolio(today, persons, misses, b.accounts, showcase, special)
