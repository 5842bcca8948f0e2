"""Building the answer to a query: the profile, accounts (own in full, others
anonymised), a 24-month grid per account, recent inquiries, disputes, statements."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone

from bureau.records.fileformat.validation import REPORTED_FIELDS
from bureau.records.history import GRID_MONTHS
from bureau.records.models import (
    Dispute,
    Profile,
    Record,
    RecordMonth,
    Subject,
    SubjectStatement,
)
from bureau.records.services.aggregate import profile_current
from reports.models import PURPOSES_WITHOUT_CONSENT, Inquiry
from reports.services.anonymise import platform_labels

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
ACCOUNT_FIELDS = REPORTED_FIELDS


def _json(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def _month_start(day: date, back: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - back, 12)
    return date(year, month + 1, 1)


def _grid(months: dict[date, str], opened_on: date, today: date) -> str:
    """24 characters, most recent month first: the status, '/' before the account
    opened, '#' unknown."""
    cells = []
    opened = _month_start(opened_on, 0)
    for back in range(GRID_MONTHS):
        month = _month_start(today, back)
        cells.append(months.get(month) or ("/" if month < opened else "#"))
    return "".join(cells)


def _profile(subject: Subject) -> dict:
    profile = profile_current(subject_id=subject.pk)
    if profile is None:
        return {
            name: _json(Profile._meta.get_field(name).get_default())
            for name in PROFILE_FIELDS
        }
    return {name: _json(getattr(profile, name)) for name in PROFILE_FIELDS}


def _inquiry_counts(subject: Subject, *, exclude_id, now) -> dict:
    windows = {"last_1m": 30, "last_3m": 91, "last_6m": 182}
    aggregates = {}
    for label, days in windows.items():
        since = Q(created_at__gte=now - timezone.timedelta(days=days))
        aggregates[f"{label}_count"] = Count("id", filter=since)
        aggregates[f"{label}_members"] = Count("member", filter=since, distinct=True)
    # Look-ups by or for the subject (self-reports, dispute handling) are not
    # lenders' inquiries: they would inflate the multi-head-lending signal.
    counts = (
        Inquiry.objects.filter(subject=subject)
        .exclude(id=exclude_id)
        .exclude(purpose__in=PURPOSES_WITHOUT_CONSENT)
        .aggregate(**aggregates)
    )
    return {
        label: {
            "count": counts[f"{label}_count"],
            "members": counts[f"{label}_members"],
        }
        for label in windows
    }


def _disputes(subject: Subject, *, furnisher, with_claims: bool) -> list[dict]:
    """The subject's disputes (open first, then newest), furnishers labelled as on
    the accounts. Claims are the subject's own words: bureau staff only."""
    disputes = []
    rows = Dispute.objects.filter(subject=subject).order_by("-opened_at", "-id")
    for dispute in rows.values(
        "record_id", "member_id", "status", "opened_at", "due_at", "claim"
    ):
        item = {
            "furnisher": furnisher(dispute["member_id"]),
            "status": dispute["status"],
            "opened_at": dispute["opened_at"].isoformat(),
            "due_at": dispute["due_at"].isoformat(),
            "record_id": dispute["record_id"],
        }
        if with_claims:
            item["claim"] = dispute["claim"]
        disputes.append(item)
    disputes.sort(key=lambda d: d["status"] != Dispute.Status.OPEN)
    return disputes


def _statements(subject: Subject) -> list[dict]:
    rows = SubjectStatement.objects.filter(subject=subject, withdrawn_at__isnull=True)
    return [
        {"text": text, "added_at": created_at.isoformat()}
        for text, created_at in rows.order_by("created_at", "id").values_list(
            "text", "created_at"
        )
    ]


def build_report(
    *,
    subject: Subject,
    inquiry_id,
    asking_member_id: int | None,
    show_member_names: bool,
) -> dict:
    """The query answer. `show_member_names` only for bureau staff."""
    now = timezone.now()
    today = timezone.localdate()
    records = list(
        Record.objects.filter(subject=subject)
        .select_related("member")
        .order_by("member_id", "account_no")
    )
    months: dict[int, dict[date, str]] = defaultdict(dict)
    start = _month_start(today, GRID_MONTHS - 1)
    for record_id, month, status in RecordMonth.objects.filter(
        record_id__in=[r.pk for r in records], month__gte=start
    ).values_list("record_id", "month", "status"):
        months[record_id][month] = status
    others = {r.member_id for r in records if r.member_id != asking_member_id}
    labels = platform_labels(report_key=str(inquiry_id), member_ids=others)
    codes = {r.member_id: r.member.code for r in records}

    def furnisher(member_id: int) -> str:
        if member_id == asking_member_id:
            return "own"
        if show_member_names:
            return codes.get(member_id, "")
        return labels.get(member_id, "")

    disputes = _disputes(subject, furnisher=furnisher, with_claims=show_member_names)
    disputed = {d["record_id"] for d in disputes if d["status"] == Dispute.Status.OPEN}
    accounts = []
    for record in records:
        own = record.member_id == asking_member_id
        account = {
            "furnisher": furnisher(record.member_id),
            "own": own,
            **{name: _json(getattr(record, name)) for name in ACCOUNT_FIELDS},
            # Disputed while a dispute is open; a suppressed record stays flagged.
            "under_dispute": record.suppressed or record.pk in disputed,
            "history": _grid(months[record.pk], record.opened_on, today),
        }
        if own or show_member_names:
            account["account_no"] = record.account_no
        if show_member_names:
            account["record_id"] = record.pk  # what POST /disputes/ takes
        accounts.append(account)
    for dispute in disputes:
        if not show_member_names:
            del dispute["record_id"]
    accounts.sort(key=lambda a: (not a["own"], a["furnisher"], a["opened_on"]))
    return {
        "inquiry_id": str(inquiry_id),
        "generated_at": now.isoformat(),
        "subject": {
            "id_type": subject.id_type,
            "id_masked": subject.id_masked,
            "name": subject.name,
            # Bureau staff address the subject's file by id (statements, inquiries).
            **({"id": subject.pk} if show_member_names else {}),
        },
        "profile": _profile(subject),
        "accounts": accounts,
        "inquiries": _inquiry_counts(subject, exclude_id=inquiry_id, now=now),
        "disputes": disputes,
        "statements": _statements(subject),
    }
