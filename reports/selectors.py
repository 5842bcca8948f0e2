"""Reads for inquiries and reports, and a member's screenings, watches and
webhooks."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import connection, models
from django.db.models import Q, QuerySet
from django.utils import timezone

from bureau.core.sql import fetchone_prepared, instance_from_row, select_columns
from bureau.records.fileformat.validation import REPORTED_FIELDS
from bureau.records.models import (
    Dispute,
    Profile,
    Record,
    RecordMonth,
    Subject,
    SubjectStatement,
)
from members.models import Member
from reports.models import (
    PURPOSES_WITHOUT_CONSENT,
    Inquiry,
    Screening,
    ScreeningResult,
    Watch,
    Webhook,
    WebhookDelivery,
)


def inquiries_of_member(*, member: Member | None) -> QuerySet[Inquiry]:
    """A member's own inquiries; bureau staff (member None) see all."""
    inquiries = Inquiry.objects.select_related("member", "api_key", "user")
    return inquiries if member is None else inquiries.filter(member=member)


def inquiry_for_report(*, inquiry_id, member: Member | None) -> Inquiry | None:
    """The inquiry whose report the caller may read: the asking member's own, or any
    for bureau staff (member None). Misses have no report."""
    inquiries = Inquiry.objects.filter(pk=inquiry_id, hit=True)
    if member is not None:
        inquiries = inquiries.filter(member=member)
    return inquiries.first()


# --- hot-path reads of POST /queries/ ----------------------------------------------
# Run on every query, so written as SQL once per process from the models' metadata
# (names only, never input: hence the S608 waivers). Through the ORM, compiling the
# seven querysets they replace cost more CPU than PostgreSQL spent answering them.


def _column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@cache
def _subject_sql() -> tuple[str, tuple[str, ...]]:
    """The look-up by number, taking %(id_type)s and %(id_hashes)s."""
    columns, attnames = select_columns(Subject)
    sql = (
        f"SELECT {columns} FROM {_table(Subject)}"  # noqa: S608
        f" WHERE {_column(Subject, 'id_type')} = %(id_type)s"
        f" AND {_column(Subject, 'id_hash')} = ANY(%(id_hashes)s)"
        f" ORDER BY {_column(Subject, 'id')} LIMIT 1"
    )
    return sql, attnames


def subject_by_identity(*, id_type: str, id_hashes: list[str]) -> Subject | None:
    """The subject filed under one of `id_hashes` (the links of one number's hash
    chain), as `Subject.objects.filter(id_type=…, id_hash__in=…).first()`."""
    sql, attnames = _subject_sql()
    row = fetchone_prepared(sql, {"id_type": id_type, "id_hashes": id_hashes})
    return None if row is None else instance_from_row(Subject, attnames, row)


# The reads behind one report (services/report.py), in one statement.

ACCOUNT_FIELDS = REPORTED_FIELDS
PROFILE_FIELDS = (
    "platforms_total",
    "platforms_with_overdue",
    "accounts_total",
    "accounts_overdue",
    "guarantees_total",
    "guarantees_overdue",
    "total_principal",
    "total_balance",
    "total_amount_overdue",
    "max_days_overdue",
    "worst_status",
    "worst_classification",
    "first_delinquency_on",
    "last_reported_on",
    "blacklisted",
    "blacklist_reasons",
)
# label → days back: "inquiries in the last 1/3/6 months".
INQUIRY_WINDOWS = {"last_1m": 30, "last_3m": 91, "last_6m": 182}
DISPUTE_FIELDS = ("record", "member", "status", "opened_at", "due_at", "claim")


@dataclass(frozen=True, slots=True)
class ReportAccount:
    id: int
    member_id: int
    member_code: str
    account_no: str
    suppressed: bool
    months: dict[str, str]  # "YYYY-MM-01" → status, from `months_from` on
    # ACCOUNT_FIELDS as JSON carries them: amounts as Decimal, dates as ISO strings.
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReportData:
    accounts: list[ReportAccount]  # by member id, then account number
    profile: dict[str, Any] | None  # PROFILE_FIELDS; None: no profile row (yet)
    inquiries: dict[str, dict[str, int]]  # window label → {"count", "members"}
    disputes: list[dict[str, Any]]  # DISPUTE_FIELDS by attname, newest first
    statements: list[tuple[str, datetime]]  # (text, created_at), oldest first


def _json_carries(field) -> bool:
    """Whether PostgreSQL's JSON for the field's values parses back to what
    psycopg gives (numbers as Decimal), or for dates to their ISO text. Not so for
    timestamps: PostgreSQL and Python print fractions of seconds differently."""
    if isinstance(field, models.DateTimeField):
        return False
    carried: tuple[type[models.Field], ...]
    carried = (models.CharField, models.TextField, models.IntegerField)
    carried += (models.BooleanField, models.DecimalField, models.DateField)
    return isinstance(field, carried)


@cache
def _accounts_json_sql(subject: str) -> str:
    """The subject's records as one JSON array of arrays, each
    [id, member id, member code, account no, suppressed, months, *ACCOUNT_FIELDS]:
    typed columns for a handful of rows cost more to read than one JSON text."""

    def r(name: str) -> str:
        return "r." + _column(Record, name)

    def rm(name: str) -> str:
        return "rm." + _column(RecordMonth, name)

    for name in ACCOUNT_FIELDS:
        if not _json_carries(Record._meta.get_field(name)):
            raise TypeError(f"Record.{name} is not carried exactly by JSON")
    values = ", ".join(r(name) for name in ACCOUNT_FIELDS)
    return f"""(
        SELECT json_agg(json_build_array(
            {r("id")}, {r("member")},
            (SELECT m.{_column(Member, "code")} FROM {_table(Member)} m
             WHERE m.{_column(Member, "id")} = {r("member")}),
            {r("account_no")}, {r("suppressed")},
            (SELECT json_object_agg(
                to_char({rm("month")}, 'YYYY-MM-DD'), {rm("status")})
             FROM {_table(RecordMonth)} rm
             WHERE {rm("record")} = {r("id")} AND {rm("month")} >= %(months_from)s),
            {values}
        ) ORDER BY {r("member")}, {r("account_no")})::text
        FROM {_table(Record)} r
        WHERE {r("subject")} = {subject}
    )"""  # noqa: S608


@cache
def _report_sql(subject: str = "%(subject_id)s") -> str:
    """The report's one row for the subject whose id `subject` gives: a
    parameter, or a column of an outer query (see _subject_report_sql)."""

    def i(name: str) -> str:
        return "i." + _column(Inquiry, name)

    def d(name: str) -> str:
        return "d." + _column(Dispute, name)

    def st(name: str) -> str:
        return "st." + _column(SubjectStatement, name)

    profile = ", ".join("p." + _column(Profile, name) for name in PROFILE_FIELDS)
    counts = ", ".join(
        f"count({i('id')}) FILTER (WHERE {since}),"
        f" count(DISTINCT {i('member')}) FILTER (WHERE {since})"
        for since in (f"{i('created_at')} >= %({label})s" for label in INQUIRY_WINDOWS)
    )
    newest = f"{d('opened_at')} DESC, {d('id')} DESC"
    disputes = ", ".join(
        f"array_agg({d(name)} ORDER BY {newest})" for name in DISPUTE_FIELDS
    )
    oldest = f"{st('created_at')}, {st('id')}"
    profile_key = "p." + _column(Profile, Profile._meta.pk.name)
    return f"""
        SELECT {_accounts_json_sql(subject)}, {profile_key} IS NOT NULL, {profile},
               c.*, d.*, s.*
        FROM (SELECT 1) x
        LEFT JOIN {_table(Profile)} p ON {profile_key} = {subject}
        CROSS JOIN (
            SELECT {counts}
            FROM {_table(Inquiry)} i
            WHERE {i("subject")} = {subject}
              AND {i("id")} IS DISTINCT FROM %(exclude_id)s
              AND NOT ({i("purpose")} = ANY(%(purposes)s))
        ) c
        CROSS JOIN (
            SELECT {disputes}
            FROM {_table(Dispute)} d
            WHERE {d("subject")} = {subject}
        ) d
        CROSS JOIN (
            SELECT array_agg({st("text")} ORDER BY {oldest}),
                   array_agg({st("created_at")} ORDER BY {oldest})
            FROM {_table(SubjectStatement)} st
            WHERE {st("subject")} = {subject} AND {st("withdrawn_at")} IS NULL
        ) s
    """  # noqa: S608


@cache
def _dispute_attnames() -> tuple[str, ...]:
    attnames = {field.name: field.attname for field in Dispute._meta.concrete_fields}
    return tuple(attnames[name] for name in DISPUTE_FIELDS)


def _account(values: list) -> ReportAccount:
    return ReportAccount(
        id=values[0],
        member_id=values[1],
        member_code=values[2],
        account_no=values[3],
        suppressed=values[4],
        months=values[5] or {},
        values=dict(zip(ACCOUNT_FIELDS, values[6:], strict=True)),
    )


def _report_params(*, months_from: date, exclude_inquiry_id, now: datetime) -> dict:
    params = {
        "months_from": months_from,
        "exclude_id": Inquiry._meta.pk.get_db_prep_value(
            exclude_inquiry_id, connection
        ),
        "purposes": sorted(str(purpose) for purpose in PURPOSES_WITHOUT_CONSENT),
    }
    for label, days in INQUIRY_WINDOWS.items():
        params[label] = now - timedelta(days=days)
    return params


def _report_from_row(row) -> ReportData:
    """ReportData from the columns of `_report_sql`."""
    accounts = json.loads(row[0], parse_float=Decimal) if row[0] else []
    n_profile, n_counts = len(PROFILE_FIELDS), 2 * len(INQUIRY_WINDOWS)
    profile_values = row[2 : 2 + n_profile]
    counts = row[2 + n_profile : 2 + n_profile + n_counts]
    dispute_columns = row[2 + n_profile + n_counts : -2]
    texts, created = row[-2] or [], row[-1] or []
    disputes = [
        dict(zip(_dispute_attnames(), values, strict=True))
        for values in zip(*(column or [] for column in dispute_columns), strict=True)
    ]
    return ReportData(
        accounts=[_account(values) for values in accounts],
        profile=dict(zip(PROFILE_FIELDS, profile_values, strict=True))
        if row[1]
        else None,
        inquiries={
            label: {"count": counts[2 * k], "members": counts[2 * k + 1]}
            for k, label in enumerate(INQUIRY_WINDOWS)
        },
        disputes=disputes,
        statements=list(zip(texts, created, strict=True)),
    )


def report_data(
    *, subject_id: int, months_from: date, exclude_inquiry_id, now: datetime
) -> ReportData:
    """Everything a report shows about a subject, in one statement: its records
    (with their furnisher's code and monthly statuses from `months_from` on); its
    stored profile; the lenders' inquiries about it in each window before `now`
    (not `exclude_inquiry_id`, and not by or for the subject: self-reports and
    dispute handling would inflate the multi-head-lending signal); its disputes;
    its statements in force."""
    params = _report_params(
        months_from=months_from, exclude_inquiry_id=exclude_inquiry_id, now=now
    )
    params["subject_id"] = subject_id
    row = fetchone_prepared(_report_sql(), params)
    return _report_from_row(row)


# The subject and its report in one statement (POST /queries/): the look-up by
# number and the report are a single round trip.

# PostgreSQL's rendering of reports.services.query.normalise_name (NFKC, lower
# case, whitespace runs as one space, trimmed). Only a filter: it decides whether
# the report is read along with the subject, so that a name that does not match
# costs what an unknown number costs; Python's comparison decides the answer.
_NAME_KEY_SQL = (
    "btrim(regexp_replace(lower(normalize({name}, NFKC)), '\\s+', ' ', 'g'))"
)


@dataclass(frozen=True, slots=True)
class SubjectReport:
    subject: Subject
    # None when the stored name did not pass the SQL name filter: not read.
    data: ReportData | None


@cache
def _subject_report_sql() -> tuple[str, tuple[str, ...]]:
    columns, attnames = select_columns(Subject, alias="subj")
    subject, _ = _subject_sql()
    report = _report_sql("subj." + _column(Subject, "id"))
    name_key = _NAME_KEY_SQL.format(name="subj." + _column(Subject, "name"))
    sql = f"""
        SELECT {columns}, rep.*
        FROM ({subject}) subj
        LEFT JOIN LATERAL (
            SELECT TRUE AS read, report.* FROM ({report}) report
            WHERE {name_key} = %(name)s
        ) rep ON TRUE
    """  # noqa: S608
    return sql, attnames


def subject_report_by_identity(
    *,
    id_type: str,
    id_hashes: list[str],
    name: str,
    months_from: date,
    exclude_inquiry_id,
    now: datetime,
) -> SubjectReport | None:
    """`subject_by_identity`, and in the same statement `report_data` of that
    subject when its stored name, normalised as `name` was, equals `name`."""
    sql, attnames = _subject_report_sql()
    params = _report_params(
        months_from=months_from, exclude_inquiry_id=exclude_inquiry_id, now=now
    )
    params.update(id_type=id_type, id_hashes=id_hashes, name=name)
    row = fetchone_prepared(sql, params)
    if row is None:
        return None
    n = len(attnames)
    subject = instance_from_row(Subject, attnames, row[:n])
    read = row[n]
    return SubjectReport(
        subject=subject, data=_report_from_row(row[n + 1 :]) if read else None
    )


def inquiries_about(subject: Subject) -> QuerySet[Inquiry]:
    """Every look-up of the subject: hits, and misses for the same number (a wrong
    name answers "not found" but the number was still looked up)."""
    return Inquiry.objects.filter(
        Q(subject=subject) | Q(id_type=subject.id_type, id_hash=subject.id_hash)
    )


# -- a member's screenings, watches, webhooks ---------------------------------------


def screenings_of_member(*, member: Member | None) -> QuerySet[Screening]:
    """A member's own screenings, newest first (bureau staff have none)."""
    if member is None:
        return Screening.objects.none()
    return Screening.objects.filter(member=member).select_related("member")


def screening_results(*, screening: Screening) -> QuerySet[ScreeningResult]:
    return ScreeningResult.objects.filter(screening=screening).order_by("line")


def watches_of_member(*, member: Member | None) -> QuerySet[Watch]:
    """A member's live watches, newest first (bureau staff have none)."""
    if member is None:
        return Watch.objects.none()
    return Watch.objects.filter(member=member, deleted_at__isnull=True).select_related(
        "subject"
    )


def webhooks_of_member(*, member: Member | None) -> QuerySet[Webhook]:
    """A member's webhooks that are not deleted (bureau staff have none)."""
    if member is None:
        return Webhook.objects.none()
    return Webhook.objects.filter(member=member, active=True)


# A lost retry message (worker killed while holding it) is picked up by
# notify_webhooks_due once it is this late.
WEBHOOK_SWEEP_GRACE = timedelta(minutes=2)


def webhooks_due(*, now: datetime | None = None, limit: int = 1000) -> list[uuid.UUID]:
    """Pending deliveries whose retry message seems lost (overdue by
    WEBHOOK_SWEEP_GRACE)."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now - WEBHOOK_SWEEP_GRACE,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
