"""Replaying the demo's past through the real services, with the clock moved.

Every batch is uploaded (`batch_create`), ingested (`batch_ingest`) and aggregated
(`profiles_refresh_and_alert`, what the aggregate task runs) at the time the plan
gives it; every inquiry is a real `query_run`; disputes, statements, watches, the
webhook and the screening go through their services. So timestamps, counters,
grids, profiles, watch alerts and the audit trail are exactly what that history
would have left: each event is written at its own time, in time order, and the
hash chain is the ordinary one (no row is ever updated or backdated after the
fact; the trail is append-only).

The clock is moved with time-machine (`travel(..., tick=True)`: it runs on from
each event's time). It is a development dependency (requirements-dev.txt, which
`make demo` installs); without it the same data is seeded with today's
timestamps, and the dashboards' 30-day series show one day.
"""

from __future__ import annotations

import contextlib
import csv
import io
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial

from django.conf import settings
from django.utils import timezone

from bureau.audit.misuse import misuse_detect
from bureau.demo_data.history import SEED, Account, Person, Portfolio
from bureau.demo_data.plan import Plan, Query, Upload
from bureau.records import identity, identity_keys
from bureau.records.fileformat.reader import COLUMNS
from bureau.records.generator import DEFECT_CODES, corrupt_row
from bureau.records.models import Batch, Dispute, Record, Subject
from bureau.records.selectors import batch_subject_ids
from bureau.records.services.aggregate import profiles_refresh_and_alert
from bureau.records.services.disputes import (
    dispute_answer,
    dispute_open,
    disputes_suppress_overdue,
)
from bureau.records.services.ingest import batch_ingest, member_contribution_changed
from bureau.records.services.raw_files import batch_file_delete
from bureau.records.services.statements import statement_add
from bureau.records.services.upload import batch_create
from members.models import ApiKey, Member, User
from members.principals import KeyPrincipal
from reports.services.query import QueryInput, query_run
from reports.services.screening import screening_create, screening_run
from reports.services.screening_files import screening_file_delete
from reports.services.watches import WatchInput, watch_create
from reports.services.webhooks import batch_completed_queue, webhook_create

# Six of the eight defects: the other two (future_date, too_old) depend on the day.
ROW_DEFECTS = DEFECT_CODES[:6]
# Nothing listens there: deliveries fail, and show how failures look. Loopback
# where webhooks may point at it (dev), else a name that never resolves.
WEBHOOK_URL = "http://127.0.0.1:9/anxin/bureau-events"
WEBHOOK_URL_PUBLIC = "https://hooks.anxin.example/bureau-events"


class Clock:
    """Moves the process's clock to each event (time-machine), if installed."""

    def __init__(self, *, move: bool = True) -> None:
        # The plan ends before this moment; no event may go past it.
        self.limit = timezone.now()
        self.travel = None
        if move:
            try:
                import time_machine
            except ImportError:  # not a runtime dependency
                pass
            else:
                self.travel = time_machine.travel

    @property
    def moves(self) -> bool:
        return self.travel is not None

    @contextlib.contextmanager
    def at(self, when: datetime) -> Iterator[None]:
        if self.travel is None:
            yield
            return
        with self.travel(min(when, self.limit), tick=True):
            yield


@dataclass
class Actors:
    """Who acts for each member: its integration key and its staff logins."""

    keys: dict[str, ApiKey]
    users: dict[str, User]  # username -> user
    members: dict[str, Member]

    def member_actor(self, code: str, via: str, role: str):
        user = self.users.get(f"{code}_{role}")
        if via == "web" and user is not None:
            return user
        return KeyPrincipal(self.keys[code])


@dataclass
class Stats:
    batches: int = 0
    inquiries: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row[column] for column in COLUMNS])
    return out.getvalue().encode()


def _normalized(person: Person) -> str:
    return identity.normalize_identity(person.id_type, person.id_number)


def subject_of(person: Person) -> Subject | None:
    links = identity_keys.lookup_hashes(person.id_type, _normalized(person))
    hashes = [id_hash for _, id_hash in links]
    return Subject.objects.filter(id_type=person.id_type, id_hash__in=hashes).first()


def record_of(account: Account, members: dict[str, Member]) -> Record:
    return Record.objects.get(
        member=members[account.member],
        account_no=account.account_no,
        subject=subject_of(account.borrower),
    )


class HistorySeeder:
    def __init__(
        self, portfolio: Portfolio, plan: Plan, actors: Actors, clock: Clock
    ) -> None:
        self.portfolio, self.plan, self.actors = portfolio, plan, actors
        self.clock = clock
        self.rng = random.Random(SEED + 3)
        self.stats = Stats()
        self.by_member: dict[str, list[Account]] = defaultdict(list)
        for account in portfolio.accounts:
            self.by_member[account.member].append(account)
        self.defects = 0

    # -- the timeline ------------------------------------------------------------

    def run(self) -> Stats:
        events: list[tuple[datetime, int, Callable[[], object]]] = []

        def add(when: datetime, action: Callable[[], object]) -> None:
            events.append((when, len(events), action))

        for upload in self.plan.uploads:
            add(upload.at, partial(self._upload, upload))
        for query in self.plan.queries:
            add(query.at, partial(self._query, query))
        for when, action in self._story():
            add(when, action)
        for when, _, action in sorted(events, key=lambda e: (e[0], e[1])):
            with self.clock.at(when):
                action()
        return self.stats

    def _upload(self, upload: Upload) -> None:
        accounts = self.by_member[upload.member]
        rows = [row for account in accounts for row in account.rows(upload.as_of)]
        for _ in range(upload.defects):
            at = self.rng.randrange(len(rows))
            code = ROW_DEFECTS[self.defects % len(ROW_DEFECTS)]
            self.defects += 1
            rows[at] = corrupt_row(rows[at], code, self.rng, upload.as_of)
        name = f"{upload.member}-{upload.as_of.isoformat()}"
        if upload.retry:
            name += "-fixed"
        actor = self.actors.member_actor(upload.member, upload.via, "uploader")
        batch, _ = batch_create(
            member=self.actors.members[upload.member],
            handle=io.BytesIO(_csv(rows)),
            filename=f"{name}.csv",
            strict=upload.strict,
            idempotency_key=name,
            actor=actor,
        )
        # What the ingest and aggregate tasks do, a little later, on this clock.
        with self.clock.at(upload.at + timedelta(seconds=40)):
            ingested = batch_ingest(batch_id=batch.pk)
            assert ingested is not None  # a batch just uploaded is ingested
            batch = ingested
            batch_file_delete(batch_id=batch.pk)
            member_contribution_changed(member_id=batch.member_id)
        with self.clock.at(upload.at + timedelta(seconds=70)):
            profiles_refresh_and_alert(batch_subject_ids(batch_id=batch.pk))
            batch_completed_queue(batch_id=batch.pk)
        self.stats.batches += 1
        self.stats.by_status[batch.status] += 1

    def _query(self, query: Query) -> None:
        actor = self.actors.member_actor(query.member, query.via, "analyst")
        person = query.person
        query_run(
            actor=actor,
            member=self.actors.members[query.member],
            data=QueryInput(
                id_type=person.id_type,
                id_number=person.id_number,
                name=person.name,
                purpose=query.purpose,
                consent_reference=query.consent,
            ),
        )
        self.stats.inquiries += 1

    # -- disputes, statements, watches, a webhook, a screening, misuse -------------

    def _story(self) -> list[tuple[datetime, Callable[[], object]]]:
        tz = timezone.get_current_timezone()
        today = self.clock.limit.astimezone(tz).date()

        def at(days_ago: int, hour: int, minute: int = 0) -> datetime:
            day = today - timedelta(days=days_ago)
            return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)

        special = self.portfolio.special
        show = self.portfolio.showcase
        settled_on = today - timedelta(days=24)
        story: list[tuple[datetime, Callable[[], object]]] = [
            (at(50, 10), self._webhook),
            (at(41, 11), lambda: self._watch("anxin", show["multi"], 1)),
            (at(40, 15), lambda: self._watch("anxin", show["dispute_3"], 2)),
            (at(38, 10), lambda: self._watch("huixin", show["blacklisted"], 1)),
            (at(36, 14), lambda: self._dispute(special["corrected"], "claim_settled")),
            (at(36, 15), lambda: self._statement(special["corrected"].borrower, 0)),
            (at(30, 10), lambda: self._dispute(special["confirmed"], "claim_unknown")),
            (at(27, 16), lambda: self._dispute(special["suppressed"], "claim_amount")),
            (at(27, 17), lambda: self._statement(special["suppressed"].borrower, 1)),
            (at(24, 11), lambda: self._correct(special["corrected"], settled_on)),
            (at(22, 9, 30), lambda: self._confirm(special["confirmed"])),
            (at(18, 11), lambda: self._dispute(special["due_soon"], "claim_amount")),
            (at(9, 10, 30), self._screening),
            (at(6, 3, 10), disputes_suppress_overdue),
            (at(6, 14), lambda: self._dispute(special["open"], "claim_identity")),
            (self.plan.burst_end + timedelta(minutes=5), self._misuse),
        ]  # fmt: skip
        return story

    def _compliance(self) -> User:
        return self.actors.users["compliance"]

    def _webhook(self) -> None:
        webhook_create(
            actor=self.actors.users["anxin_member_admin"],
            member=self.actors.members["anxin"],
            url=WEBHOOK_URL
            if settings.BUREAU_WEBHOOK_ALLOW_PRIVATE
            else WEBHOOK_URL_PUBLIC,
            events=["profile.changed"],
        )

    def _watch(self, code: str, person: Person, number: int) -> None:
        watch_create(
            actor=self.actors.member_actor(code, "web", "analyst"),
            member=self.actors.members[code],
            data=WatchInput(
                id_type=person.id_type,
                id_number=person.id_number,
                name=person.name,
                consent_reference=f"{code.upper()}-PLM-W{number:03d}",
            ),
        )

    def _dispute(self, account: Account, claim: str) -> None:
        person = account.borrower
        # Compliance looks the person up first, as the dispute-handling purpose.
        query_run(
            actor=self._compliance(),
            member=None,
            data=QueryInput(
                id_type=person.id_type,
                id_number=person.id_number,
                name=person.name,
                purpose="dispute_handling",
            ),
        )
        self.stats.inquiries += 1
        dispute_open(
            record=record_of(account, self.actors.members),
            claim=CLAIMS[claim],
            actor=self._compliance(),
        )

    def _open_dispute(self, account: Account) -> Dispute:
        record = record_of(account, self.actors.members)
        return Dispute.objects.get(record=record, status=Dispute.Status.OPEN)

    def _correct(self, account: Account, as_of: date) -> None:
        state = account.state(as_of.toordinal())
        assert state is not None  # the story picks accounts open on the day
        dispute_answer(
            dispute=self._open_dispute(account),
            outcome="corrected",
            values={
                "status": state["status"],
                "balance": "0",
                "amount_overdue": "0",
                "days_overdue": "0",
                "as_of": as_of.isoformat(),
            },
            note=NOTES["corrected"],
            actor=self.actors.users.get(f"{account.member}_uploader")
            or KeyPrincipal(self.actors.keys[account.member]),
        )

    def _confirm(self, account: Account) -> None:
        dispute_answer(
            dispute=self._open_dispute(account),
            outcome="confirmed",
            note=NOTES["confirmed"],
            actor=self.actors.users.get(f"{account.member}_member_admin")
            or KeyPrincipal(self.actors.keys[account.member]),
        )

    def _statement(self, person: Person, number: int) -> None:
        subject = subject_of(person)
        assert subject is not None  # the person's records are seeded by now
        statement_add(
            subject=subject,
            text=STATEMENTS[number],
            actor=self._compliance(),
        )

    def _screening(self) -> None:
        rows = [("id_type", "id_number", "name")]
        persons = self.rng.sample(self.portfolio.persons, 30)
        persons += self.rng.sample(self.portfolio.misses, 10)
        self.rng.shuffle(persons)
        rows += [(p.id_type, p.id_number, p.name) for p in persons]
        text = "\n".join(",".join(row) for row in rows) + "\n"
        screening = screening_create(
            actor=self.actors.member_actor("huixin", "web", "analyst"),
            member=self.actors.members["huixin"],
            handle=io.BytesIO(text.encode()),
            filename="huixin-prescreen.csv",
            purpose="loan_approval",
            consent_reference="HUIXIN-SCR-0001",
        )
        with self.clock.at(screening.created_at + timedelta(seconds=30)):
            screening_run(screening_id=screening.pk)
            screening_file_delete(screening_id=screening.pk)
        self.stats.inquiries += len(persons)

    def _misuse(self) -> None:
        misuse_detect()  # what the hourly job did at 23:05 that evening


# The subjects' and furnishers' words: free text, as compliance would type it.
CLAIMS = {
    "claim_settled": "本人已于上月一次性结清该笔贷款，但报告仍显示逾期。 "
    "The borrower says the loan was repaid in full last month but is still "
    "reported overdue.",
    "claim_unknown": "本人从未在该平台借款，怀疑身份被冒用。 The borrower "
    "says they never borrowed from this platform and suspects identity theft.",
    "claim_amount": "逾期金额与本人还款记录不符。 The overdue amount does not "
    "match the borrower's repayment records.",
    "claim_identity": "该账户的还款日期有误。 The borrower disputes the "
    "reported payment dates on this account.",
}
NOTES = {
    "corrected": "Repayment confirmed in our ledger; account reported settled.",
    "confirmed": "Contract, disbursement and collection records verified.",
}
STATEMENTS = (
    "本人已结清全部欠款，逾期系银行扣款失败所致。 All debts are repaid; the "
    "late payment was caused by a failed bank debit.",
    "本人因住院治疗未能按时还款，现已恢复正常还款。 I missed payments while in "
    "hospital and have since resumed regular repayments.",
)


def demo_batches_exist(members: list[Member]) -> bool:
    return Batch.objects.filter(member__in=members).exists()
