"""Building the answer to a query: the profile, accounts (own in full, others
anonymised), a 24-month grid per account, recent inquiries, disputes, statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext

from bureau.audit.services import audit_record
from bureau.core.actors import ActorLike
from bureau.core.errors import NotFound, ValidationFailed
from bureau.records.history import GRID_MONTHS, month_start
from bureau.records.models import Dispute, Profile, Subject
from bureau.records.selectors import profile_of
from members.models import Member
from reports.models import Inquiry
from reports.selectors import (
    ACCOUNT_FIELDS,
    PROFILE_FIELDS,
    ReportData,
    inquiry_for_report,
    report_data,
)
from reports.services.anonymise import platform_labels


def _local(moment: datetime) -> str:
    """A time as ISO text in the site's TIME_ZONE (+08:00), like every other time
    the API and the pages show; the database hands them out in UTC."""
    return timezone.localtime(moment).isoformat()


def _json(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def _grid(months: dict[str, str], opened_on: date, grid: list[tuple[date, str]]) -> str:
    """24 characters, most recent month first: the status, '/' before the account
    opened, '#' unknown. `months`: status by ISO month; `grid`: the 24 months
    (first day, and as ISO text), newest first."""
    opened = month_start(opened_on)
    return "".join(
        months.get(iso) or ("/" if month < opened else "#") for month, iso in grid
    )


def _profile(stored: dict | None, *, subject: Subject, has_records: bool) -> dict:
    if stored is None and has_records:
        # Aggregation has not reached the subject yet: profile_of computes it
        # (and stores nothing: the aggregation the ingest queued does).
        profile = profile_of(subject_id=subject.pk)
        if profile is not None:
            stored = {name: getattr(profile, name) for name in PROFILE_FIELDS}
    if stored is None:
        fields = {field.name: field for field in Profile._meta.concrete_fields}
        return {name: _json(fields[name].get_default()) for name in PROFILE_FIELDS}
    return {name: _json(stored[name]) for name in PROFILE_FIELDS}


def _disputes(rows: list[dict], *, furnisher, with_claims: bool) -> list[dict]:
    """The subject's disputes (open first, then newest), furnishers labelled as on
    the accounts. Claims are the subject's own words: bureau staff only."""
    disputes = []
    for dispute in rows:
        item = {
            "furnisher": furnisher(dispute["member_id"]),
            "status": dispute["status"],
            "opened_at": _local(dispute["opened_at"]),
            "due_at": _local(dispute["due_at"]),
            "record_id": dispute["record_id"],
        }
        if with_claims:
            item["claim"] = dispute["claim"]
        disputes.append(item)
    disputes.sort(key=lambda d: d["status"] != Dispute.Status.OPEN)
    return disputes


@dataclass(frozen=True, slots=True)
class ReportClock:
    """When a report is made: its timestamp and its grid's months, newest first."""

    now: datetime
    grid_months: list[date]

    @classmethod
    def start(cls) -> ReportClock:
        today = timezone.localdate()
        months = [month_start(today, back) for back in range(GRID_MONTHS)]
        return cls(now=timezone.now(), grid_months=months)

    @property
    def months_from(self) -> date:
        return self.grid_months[-1]


def build_report(
    *,
    subject: Subject,
    inquiry_id,
    asking_member_id: int | None,
    show_member_names: bool,
    data: ReportData | None = None,
    clock: ReportClock | None = None,
) -> dict:
    """The query answer. `show_member_names` only for bureau staff. `data`, when
    the caller read it already, was read for `inquiry_id` with `clock`."""
    clock = clock or ReportClock.start()
    now = clock.now
    grid = [(month, month.isoformat()) for month in clock.grid_months]
    if data is None:
        data = report_data(
            subject_id=subject.pk,
            months_from=clock.months_from,
            exclude_inquiry_id=inquiry_id,
            now=now,
        )
    records = data.accounts
    others = {r.member_id for r in records if r.member_id != asking_member_id}
    labels = platform_labels(report_key=str(inquiry_id), member_ids=others)
    codes = {r.member_id: r.member_code for r in records}

    def furnisher(member_id: int) -> str:
        if member_id == asking_member_id:
            return "own"
        if show_member_names:
            return codes.get(member_id, "")
        return labels.get(member_id, "")

    disputes = _disputes(
        data.disputes, furnisher=furnisher, with_claims=show_member_names
    )
    disputed = {d["record_id"] for d in disputes if d["status"] == Dispute.Status.OPEN}
    accounts = []
    for record in records:
        own = record.member_id == asking_member_id
        values = record.values
        account = {
            "furnisher": furnisher(record.member_id),
            "own": own,
            **{name: _json(values[name]) for name in ACCOUNT_FIELDS},
            # Disputed while a dispute is open; a suppressed record stays flagged.
            "under_dispute": record.suppressed or record.id in disputed,
            "history": _grid(
                record.months, date.fromisoformat(values["opened_on"]), grid
            ),
        }
        if own or show_member_names:
            account["account_no"] = record.account_no
        if show_member_names:
            account["record_id"] = record.id  # what POST /disputes/ takes
        accounts.append(account)
    for dispute in disputes:
        if not show_member_names:
            del dispute["record_id"]
    accounts.sort(key=lambda a: (not a["own"], a["furnisher"], a["opened_on"]))
    return {
        "inquiry_id": str(inquiry_id),
        "generated_at": _local(now),
        "subject": {
            "id_type": subject.id_type,
            "id_masked": subject.id_masked,
            "name": subject.name,
            # Bureau staff address the subject's file by id (statements, inquiries).
            **({"id": subject.pk} if show_member_names else {}),
        },
        "profile": _profile(data.profile, subject=subject, has_records=bool(records)),
        "accounts": accounts,
        "inquiries": data.inquiries,
        "disputes": disputes,
        "statements": [
            {"text": text, "added_at": _local(created_at)}
            for text, created_at in data.statements
        ],
    }


# How the API renders a report; the web's profile page reads it as "web".
REPORT_FORMATS = ("json", "html", "pdf")
WEB_FORMAT = "web"


def report_read(
    *,
    actor: ActorLike,
    member: Member | None,
    inquiry_id: Any,
    fmt: str,
    formats: tuple[str, ...] = REPORT_FORMATS,
) -> Inquiry:
    """The inquiry whose stored report the caller reads (the asking member's own,
    any for bureau staff), its reading audited as `report.view` with the format:
    one place for the API and the web page. NotFound for anyone else's or a miss,
    then ValidationFailed for a format not in `formats`; neither is audited."""
    inquiry = inquiry_for_report(inquiry_id=inquiry_id, member=member)
    if inquiry is None:
        raise NotFound(gettext("No report for this inquiry."))
    if fmt not in formats:
        raise ValidationFailed(
            errors={"format": [gettext("Must be json, html or pdf.")]}
        )
    audit_record(
        actor=actor,
        action="report.view",
        obj=inquiry,
        member=member,
        details={"format": fmt, "subject": inquiry.subject_id},
    )
    return inquiry
