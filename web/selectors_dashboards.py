"""What the bureau dashboard shows: a handful of grouped queries, one per figure.

Every function runs a fixed number of queries whatever the number of members or
rows (GROUP BY in the database, never a loop of queries). Days are local calendar
days (settings.TIME_ZONE), the same days TruncDate groups by; a period of N days
ends today and starts at local midnight N - 1 days before.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from bureau.audit.models import Alert
from bureau.records.models import Batch, Dispute
from bureau.records.services.disputes import DUE_SOON_DAYS, days_until
from reports.models import Inquiry

# Batches whose accepted rows were written (a failed batch wrote nothing).
FURNISHED_STATUSES = (Batch.Status.COMPLETED, Batch.Status.COMPLETED_WITH_ERRORS)
LATEST_ALERTS = 10
SOONEST_DISPUTES = 10


@dataclass(frozen=True)
class Period:
    days: int
    start: datetime  # local midnight of the first day (aware)
    end: datetime  # now
    dates: list[date]


def period_of(days: int, *, now: datetime | None = None) -> Period:
    now = now or timezone.now()
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first, time.min))
    return Period(
        days=days,
        start=start,
        end=now,
        dates=[first + timedelta(days=i) for i in range(days)],
    )


# -- records furnished ----------------------------------------------------------


@dataclass
class MemberSeries:
    member_id: int
    name: str
    per_day: list[int]

    @property
    def total(self) -> int:
        return sum(self.per_day)


def records_furnished(period: Period) -> list[MemberSeries]:
    """Accepted rows of each member's written batches, by the local day each
    batch finished; members with the most first. One query."""
    rows = (
        Batch.objects.filter(
            finished_at__gte=period.start,
            finished_at__lte=period.end,
            status__in=FURNISHED_STATUSES,
            validate_only=False,
        )
        .annotate(day=TruncDate("finished_at"))
        .values("member_id", "member__name", "day")
        .annotate(records=Sum("rows_accepted"))
        .order_by()
    )
    index = {day: i for i, day in enumerate(period.dates)}
    members: dict[int, MemberSeries] = {}
    for row in rows:
        series = members.setdefault(
            row["member_id"],
            MemberSeries(row["member_id"], row["member__name"], [0] * period.days),
        )
        if row["day"] in index:
            series.per_day[index[row["day"]]] += row["records"] or 0
    return sorted(members.values(), key=lambda s: (-s.total, s.name))


# -- reject rate ----------------------------------------------------------------


@dataclass(frozen=True)
class RejectRate:
    member_id: int
    name: str
    rows_total: int
    rows_rejected: int

    @property
    def rate(self) -> float:
        """Rejected rows as a percentage of all rows."""
        return 100 * self.rows_rejected / self.rows_total if self.rows_total else 0.0


def reject_rates(period: Period) -> list[RejectRate]:
    """Rejected / total rows of each member's batches that finished in the
    period (failed ones too: a refused file is a quality signal; validate-only
    trial runs are not). Highest rate first. One query."""
    rows = (
        Batch.objects.filter(
            finished_at__gte=period.start,
            finished_at__lte=period.end,
            validate_only=False,
            rows_total__gt=0,
        )
        .values("member_id", "member__name")
        .annotate(total=Sum("rows_total"), rejected=Sum("rows_rejected"))
        .order_by()
    )
    rates = [
        RejectRate(row["member_id"], row["member__name"], row["total"], row["rejected"])
        for row in rows
    ]
    return sorted(rates, key=lambda r: (-r.rate, r.name))


# -- queries --------------------------------------------------------------------


@dataclass
class QueryVolume:
    queries: list[int]  # per day of the period
    hits: list[int]

    @property
    def total(self) -> int:
        return sum(self.queries)

    @property
    def total_hits(self) -> int:
        return sum(self.hits)

    @property
    def hit_rate(self) -> float:
        return 100 * self.total_hits / self.total if self.total else 0.0


@dataclass(frozen=True)
class MemberQueries:
    member_id: int | None  # None: bureau staff (self-reports, dispute handling)
    name: str
    queries: int
    hits: int

    @property
    def hit_rate(self) -> float:
        return 100 * self.hits / self.queries if self.queries else 0.0


def query_volume(period: Period) -> QueryVolume:
    """Inquiries and hits per local day. One query."""
    rows = (
        Inquiry.objects.filter(created_at__gte=period.start, created_at__lte=period.end)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(queries=Count("pk"), hits=Count("pk", filter=Q(hit=True)))
        .order_by()
    )
    index = {day: i for i, day in enumerate(period.dates)}
    volume = QueryVolume([0] * period.days, [0] * period.days)
    for row in rows:
        if row["day"] in index:
            volume.queries[index[row["day"]]] = row["queries"]
            volume.hits[index[row["day"]]] = row["hits"]
    return volume


def queries_by_member(period: Period) -> list[MemberQueries]:
    """Inquiries and hits of each member over the period, most first. One query."""
    rows = (
        Inquiry.objects.filter(created_at__gte=period.start, created_at__lte=period.end)
        .values("member_id", "member__name")
        .annotate(queries=Count("pk"), hits=Count("pk", filter=Q(hit=True)))
        .order_by()
    )
    found = [
        MemberQueries(
            row["member_id"], row["member__name"] or "", row["queries"], row["hits"]
        )
        for row in rows
    ]
    return sorted(found, key=lambda m: (-m.queries, m.name))


# -- misuse alerts --------------------------------------------------------------


@dataclass
class OpenAlerts:
    counts: dict[tuple[str, str], int]  # (rule, severity) -> open alerts
    latest: list[Alert]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def by_rule(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for (rule, _severity), count in self.counts.items():
            totals[rule] += count
        return dict(totals)

    def by_severity(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for (_rule, severity), count in self.counts.items():
            totals[severity] += count
        return dict(totals)


def open_alerts() -> OpenAlerts:
    """Open misuse alerts (whatever the period: open is the state now), counted
    by rule and severity, and the latest ten. Two queries."""
    open_ = Alert.objects.filter(status=Alert.Status.OPEN)
    counts = {
        (row["rule"], row["severity"]): row["n"]
        for row in open_.values("rule", "severity").annotate(n=Count("pk")).order_by()
    }
    latest = list(
        open_.select_related("member", "api_key__member").order_by(
            "-created_at", "-id"
        )[:LATEST_ALERTS]
    )
    return OpenAlerts(counts=counts, latest=latest)


# -- open disputes --------------------------------------------------------------


@dataclass(frozen=True)
class MemberDisputes:
    member_id: int
    name: str
    open: int
    overdue: int
    due_soon: int  # not yet overdue, due within DUE_SOON_DAYS days
    next_due: datetime
    days_left: int  # of the soonest


@dataclass
class OpenDisputes:
    by_member: list[MemberDisputes]
    soonest: list[Dispute] = field(default_factory=list)  # each with .days_left

    @property
    def total(self) -> int:
        return sum(m.open for m in self.by_member)

    @property
    def overdue(self) -> int:
        return sum(m.overdue for m in self.by_member)

    @property
    def due_soon(self) -> int:
        return sum(m.due_soon for m in self.by_member)


def open_disputes(*, now: datetime | None = None) -> OpenDisputes:
    """Open disputes grouped by furnisher (soonest deadline first) and the ten
    soonest due, with days left. Two queries."""
    now = now or timezone.now()
    soon = now + timedelta(days=DUE_SOON_DAYS)
    open_ = Dispute.objects.filter(status=Dispute.Status.OPEN)
    rows = (
        open_.values("member_id", "member__name")
        .annotate(
            n=Count("pk"),
            overdue=Count("pk", filter=Q(due_at__lte=now)),
            due_soon=Count("pk", filter=Q(due_at__gt=now, due_at__lte=soon)),
            next_due=Min("due_at"),
        )
        .order_by("next_due", "member__name")
    )
    by_member = [
        MemberDisputes(
            member_id=row["member_id"],
            name=row["member__name"],
            open=row["n"],
            overdue=row["overdue"],
            due_soon=row["due_soon"],
            next_due=row["next_due"],
            days_left=days_until(row["next_due"], now),
        )
        for row in rows
    ]
    soonest = list(
        open_.select_related("member", "record").order_by("due_at", "id")[
            :SOONEST_DISPUTES
        ]
    )
    for dispute in soonest:
        # Read by the dashboard template beside the model's fields.
        dispute.days_left = days_until(dispute.due_at, now)  # type: ignore[attr-defined]
    return OpenDisputes(by_member=by_member, soonest=soonest)


# -- everything -----------------------------------------------------------------


@dataclass
class Dashboard:
    period: Period
    furnished: list[MemberSeries]
    rejects: list[RejectRate]
    queries: QueryVolume
    member_queries: list[MemberQueries]
    alerts: OpenAlerts
    disputes: OpenDisputes

    @property
    def records_total(self) -> int:
        return sum(s.total for s in self.furnished)

    @property
    def reject_rate(self) -> float:
        total = sum(r.rows_total for r in self.rejects)
        return (
            100 * sum(r.rows_rejected for r in self.rejects) / total if total else 0.0
        )


def dashboard(*, days: int, now: datetime | None = None) -> Dashboard:
    """All the dashboard's figures: eight queries."""
    now = now or timezone.now()
    period = period_of(days, now=now)
    return Dashboard(
        period=period,
        furnished=records_furnished(period),
        rejects=reject_rates(period),
        queries=query_volume(period),
        member_queries=queries_by_member(period),
        alerts=open_alerts(),
        disputes=open_disputes(now=now),
    )
