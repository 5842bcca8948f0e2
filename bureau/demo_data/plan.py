"""When the demo's members furnished and queried: the timeline seed.py replays.

Pure Python and deterministic for (seed, now). Each member joins Bureau a number
of months ago with a backfill (its rows' `payment_history` carries the months
before), then furnishes a month-end snapshot a few days after each month ends;
over the last five weeks it furnishes weekly, on its own weekday, so the
dashboards' 30-day series have a pattern. Queries come on weekdays in office
hours (a few at weekends), most about persons on file, some about persons who
are not (misses); one evening one member's key asks about many unknown persons
in an hour (what misuse detection is for).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bureau.demo_data.history import (
    MEMBERS,
    SEED,
    Person,
    Portfolio,
    month_end,
    month_index,
)

WEEKLY_DAYS = 35
QUERY_DAYS = 45
# member -> queries on a weekday (a fifth of it at weekends)
QUERIES_PER_DAY = {"anxin": 4, "huixin": 4, "jieyi": 3, "ronghui": 2, "yiqian": 2}
HIT_SHARE = 0.78
PURPOSES = (
    ("loan_approval", 0.64),
    ("credit_card_approval", 0.08),
    ("post_loan_management", 0.22),
    ("guarantee_check", 0.06),
)
BURST_MEMBER, BURST_DAYS_AGO, BURST_QUERIES = "jieyi", 12, 60
# showcase person -> (member, days ago, hour) of applications looked up
ASKED_ABOUT = {
    "multi": (("yiqian", 2, 15), ("jieyi", 6, 11), ("huixin", 13, 10),
              ("ronghui", 25, 16), ("jieyi", 40, 14)),
    "blacklisted": (("yiqian", 4, 10), ("ronghui", 9, 17), ("jieyi", 20, 9)),
    "clean": (("huixin", 16, 14),),
}  # fmt: skip
# Rows given a defect (docs/records.md, row errors): by member, every nth batch.
DEFECTS = {"jieyi": (3, 4), "huixin": (7, 1), "yiqian": (2, 2)}


@dataclass(frozen=True)
class Upload:
    at: datetime
    member: str
    as_of: date
    defects: int = 0
    strict: bool = False
    via: str = "key"  # the member's integration key, or "web" (its uploader)
    retry: bool = False  # the same snapshot again after a refused strict upload


@dataclass(frozen=True)
class Query:
    at: datetime
    member: str
    via: str  # "key" or "web" (an analyst)
    person: Person
    purpose: str
    consent: str


@dataclass(frozen=True)
class Plan:
    start: datetime  # before everything: the members join
    uploads: list[Upload]
    queries: list[Query]
    burst_end: datetime  # the hour of the burst ends here


def _at(day: date, hour: int, minute: int, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def _uploads(now: datetime, tz: tzinfo, rng: random.Random) -> list[Upload]:
    today = now.astimezone(tz).date()
    window = today - timedelta(days=WEEKLY_DAYS)
    uploads: list[Upload] = []
    for number, (code, _, _, joined_back, weekday, _) in enumerate(MEMBERS):
        mine: list[Upload] = []
        every, defects = DEFECTS.get(code, (0, 0))
        first = month_index(today) - joined_back
        for index in range(first, month_index(today)):
            end = month_end(index)
            day = end + timedelta(days=1 + number % 3)
            if day >= window:
                break
            at = _at(day, 9 + number * 2, rng.randint(0, 59), tz)
            mine.append(Upload(at, code, end, via="web" if number % 2 else "key"))
        day = window
        while day < today:
            if day.weekday() == weekday:
                at = _at(day, 8 + number, rng.randint(0, 59), tz)
                mine.append(Upload(at, code, day - timedelta(days=1)))
            day += timedelta(days=1)
        if not mine or month_index(mine[-1].as_of) != month_index(today):
            # Nothing of this month yet: a snapshot of today, a few minutes ago.
            at = now - timedelta(minutes=10 - number)
            mine.append(Upload(at, code, at.astimezone(tz).date()))
        if every:
            mine = [
                Upload(u.at, u.member, u.as_of, defects=defects, via=u.via)
                if i % every == every - 1
                else u
                for i, u in enumerate(mine)
            ]
        last = mine[-1]  # its rows make this month's grid column: all accepted
        mine[-1] = Upload(last.at, code, last.as_of, via=last.via)
        if code == "yiqian":  # its first file, sent strict, is refused; fixed 2 h later
            u = mine[0]
            refused = Upload(u.at, code, u.as_of, defects=3, strict=True, via="web")
            fixed = Upload(u.at + timedelta(hours=2), code, u.as_of, via="web",
                           retry=True)  # fmt: skip
            mine[0:1] = [refused, fixed]
        uploads.extend(mine)
    return sorted(uploads, key=lambda u: u.at)


def _purpose(rng: random.Random) -> str:
    roll, total = rng.random(), 0.0
    for purpose, share in PURPOSES:
        total += share
        if roll < total:
            return purpose
    return PURPOSES[0][0]


def _queries(
    now: datetime, tz: tzinfo, rng: random.Random, portfolio: Portfolio
) -> tuple[list[Query], datetime]:
    today = now.astimezone(tz).date()
    on_file, misses = portfolio.persons, portfolio.misses
    queries: list[Query] = []
    serial = dict.fromkeys(QUERIES_PER_DAY, 0)
    asked_about = {portfolio.showcase[name] for name in ASKED_ABOUT}

    def ask(
        at: datetime, code: str, via: str, hit: bool, person: Person | None = None
    ) -> None:
        serial[code] += 1
        person = person or rng.choice(on_file if hit else misses)
        purpose = _purpose(rng) if person not in asked_about else "loan_approval"
        kind = "PLM" if purpose == "post_loan_management" else "APP"
        consent = f"{code.upper()}-{kind}-{serial[code]:05d}"
        queries.append(Query(at, code, via, person, purpose, consent))

    for back in range(QUERY_DAYS - 1, -1, -1):
        day = today - timedelta(days=back)
        weekend = day.weekday() >= 5
        for code, per_day in QUERIES_PER_DAY.items():
            n = per_day * (0.2 if weekend else 1.0) * (0.6 + 0.8 * rng.random())
            for _ in range(int(n + rng.random())):
                at = _at(day, rng.randint(9, 20), rng.randint(0, 59), tz)
                at += timedelta(seconds=rng.randint(0, 59))
                if at >= now - timedelta(minutes=15):
                    continue  # not in the future, nor among today's last uploads
                via = "web" if rng.random() < 0.25 else "key"
                ask(at, code, via, rng.random() < HIT_SHARE)
    # Multi-head borrowing shows in who asks: the showcase persons apply at
    # several platforms within weeks.
    for name, asks in ASKED_ABOUT.items():
        person = portfolio.showcase[name]
        for code, back, hour in asks:
            day = today - timedelta(days=back)
            ask(_at(day, hour, rng.randint(0, 59), tz), code, "key", True, person)
    burst_day = today - timedelta(days=BURST_DAYS_AGO)
    for i in range(BURST_QUERIES):
        at = _at(burst_day, 22, 0, tz) + timedelta(seconds=50 * i + rng.randint(0, 9))
        ask(at, BURST_MEMBER, "key", rng.random() < 0.3)
    return sorted(queries, key=lambda q: q.at), _at(burst_day, 23, 0, tz)


def build_plan(portfolio: Portfolio, *, now: datetime, tz: tzinfo,
               seed: int = SEED) -> Plan:  # fmt: skip
    rng = random.Random(seed + 2)
    uploads = _uploads(now, tz, rng)
    queries, burst_end = _queries(now, tz, rng, portfolio)
    start = uploads[0].at - timedelta(days=7)
    return Plan(start=start, uploads=uploads, queries=queries, burst_end=burst_end)
