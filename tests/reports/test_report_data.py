"""The report's one-statement read answers exactly like the ORM reads it replaced.

`reference_report` below is build_report as it was written with the ORM (seven
querysets); every report built now must be byte-for-byte the same JSON.
"""

import json
import uuid
from collections import defaultdict
from unittest import mock

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from bureau.records.history import GRID_MONTHS, month_start
from bureau.records.models import (
    Dispute,
    Profile,
    Record,
    RecordMonth,
    Subject,
    SubjectStatement,
)
from bureau.records.selectors import profile_of
from reports.models import PURPOSES_WITHOUT_CONSENT, Inquiry, Purpose
from reports.selectors import report_data
from reports.services.anonymise import platform_labels
from reports.services.report import (
    ACCOUNT_FIELDS,
    PROFILE_FIELDS,
    ReportClock,
    _json,
    build_report,
)
from tests.factories import MemberFactory
from tests.records.helpers import ID_B, csv_bytes, days_ago, good_row, ingest

pytestmark = pytest.mark.django_db


def reference_report(*, subject, inquiry_id, asking_member_id, show_member_names):
    now = timezone.now()
    today = timezone.localdate()
    records = list(
        Record.objects.filter(subject=subject)
        .select_related("member")
        .order_by("member_id", "account_no")
    )
    months = defaultdict(dict)
    start = month_start(today, GRID_MONTHS - 1)
    for record_id, month, status in RecordMonth.objects.filter(
        record_id__in=[r.pk for r in records], month__gte=start
    ).values_list("record_id", "month", "status"):
        months[record_id][month] = status
    others = {r.member_id for r in records if r.member_id != asking_member_id}
    labels = platform_labels(report_key=str(inquiry_id), member_ids=others)
    codes = {r.member_id: r.member.code for r in records}

    def furnisher(member_id):
        if member_id == asking_member_id:
            return "own"
        if show_member_names:
            return codes.get(member_id, "")
        return labels.get(member_id, "")

    def grid(record_months, opened_on):
        opened = month_start(opened_on)
        cells = []
        for back in range(GRID_MONTHS):
            month = month_start(today, back)
            cells.append(record_months.get(month) or ("/" if month < opened else "#"))
        return "".join(cells)

    disputes = []
    for row in (
        Dispute.objects.filter(subject=subject)
        .order_by("-opened_at", "-id")
        .values("record_id", "member_id", "status", "opened_at", "due_at", "claim")
    ):
        item = {
            "furnisher": furnisher(row["member_id"]),
            "status": row["status"],
            "opened_at": timezone.localtime(row["opened_at"]).isoformat(),
            "due_at": timezone.localtime(row["due_at"]).isoformat(),
            "record_id": row["record_id"],
        }
        if show_member_names:
            item["claim"] = row["claim"]
        disputes.append(item)
    disputes.sort(key=lambda d: d["status"] != Dispute.Status.OPEN)
    disputed = {d["record_id"] for d in disputes if d["status"] == "open"}
    accounts = []
    for record in records:
        own = record.member_id == asking_member_id
        account = {
            "furnisher": furnisher(record.member_id),
            "own": own,
            **{name: _json(getattr(record, name)) for name in ACCOUNT_FIELDS},
            "under_dispute": record.suppressed or record.pk in disputed,
            "history": grid(months[record.pk], record.opened_on),
        }
        if own or show_member_names:
            account["account_no"] = record.account_no
        if show_member_names:
            account["record_id"] = record.pk
        accounts.append(account)
    for dispute in disputes:
        if not show_member_names:
            del dispute["record_id"]
    accounts.sort(key=lambda a: (not a["own"], a["furnisher"], a["opened_on"]))
    profile = profile_of(subject_id=subject.pk)
    if profile is None:
        profile_json = {
            name: _json(Profile._meta.get_field(name).get_default())
            for name in PROFILE_FIELDS
        }
    else:
        profile_json = {name: _json(getattr(profile, name)) for name in PROFILE_FIELDS}
    windows = {"last_1m": 30, "last_3m": 91, "last_6m": 182}
    aggregates = {}
    for label, days in windows.items():
        since = Q(created_at__gte=now - timezone.timedelta(days=days))
        aggregates[f"{label}_count"] = Count("id", filter=since)
        aggregates[f"{label}_members"] = Count("member", filter=since, distinct=True)
    counts = (
        Inquiry.objects.filter(subject=subject)
        .exclude(id=inquiry_id)
        .exclude(purpose__in=PURPOSES_WITHOUT_CONSENT)
        .aggregate(**aggregates)
    )
    statements = SubjectStatement.objects.filter(
        subject=subject, withdrawn_at__isnull=True
    ).order_by("created_at", "id")
    return {
        "inquiry_id": str(inquiry_id),
        "generated_at": timezone.localtime(now).isoformat(),
        "subject": {
            "id_type": subject.id_type,
            "id_masked": subject.id_masked,
            "name": subject.name,
            **({"id": subject.pk} if show_member_names else {}),
        },
        "profile": profile_json,
        "accounts": accounts,
        "inquiries": {
            label: {
                "count": counts[f"{label}_count"],
                "members": counts[f"{label}_members"],
            }
            for label in windows
        },
        "disputes": disputes,
        "statements": [
            {"text": s.text, "added_at": timezone.localtime(s.created_at).isoformat()}
            for s in statements
        ],
    }


def assert_same_reports(subject, members):
    """Both builds, for each asking member and for bureau staff, as JSON text."""
    now = timezone.now()
    for member in [*members, None]:
        inquiry_id = uuid.uuid4()
        kwargs = {
            "subject": subject,
            "inquiry_id": inquiry_id,
            "asking_member_id": member.pk if member else None,
            "show_member_names": member is None,
        }
        with mock.patch("django.utils.timezone.now", return_value=now):
            expected = reference_report(**kwargs)
            actual = build_report(**kwargs)
        assert json.dumps(actual, ensure_ascii=False) == json.dumps(
            expected, ensure_ascii=False
        )


@pytest.fixture
def busy_file(acme, globex):
    """张三 (ID_A): accounts at three members, months, nulls, disputes (open,
    answered), statements (one withdrawn), inquiries of every kind."""
    initech = MemberFactory(code="initech")
    ingest(
        acme,
        csv_bytes(
            [
                good_row(account_no="ACME-2", payment_history="N21NN"),
                good_row(
                    account_no="ACME-1",
                    due_on="",
                    first_delinquency_on="",
                    days_overdue="0",
                    amount_overdue="0",
                    status="current",
                    payment_history="",
                ),
            ]
        ),
    )
    ingest(globex, csv_bytes([good_row(account_no="G-9", principal="123456.70")]))
    ingest(initech, csv_bytes([good_row(account_no="I-1", opened_on=days_ago(40))]))
    subject = Subject.objects.get(records__account_no="G-9")
    now = timezone.now()
    records = {r.account_no: r for r in Record.objects.filter(subject=subject)}
    for account_no, status, days in (
        ("G-9", "open", 3),
        ("ACME-2", "confirmed", 9),
        ("G-9", "withdrawn", 12),
    ):
        record = records[account_no]
        Dispute.objects.create(
            record=record,
            subject=subject,
            member_id=record.member_id,
            claim=f'Not mine: {account_no} «引号» "quoted"',
            status=status,
            opened_at=now - timezone.timedelta(days=days),
            due_at=now + timezone.timedelta(days=20 - days),
            answered_at=now if status == "confirmed" else None,
        )
    for days, text in ((40, "我对此有异议, “A”"), (2, "Second\nline")):
        SubjectStatement.objects.create(
            subject=subject, text=text, created_at=now - timezone.timedelta(days=days)
        )
    SubjectStatement.objects.create(subject=subject, text="withdrawn", withdrawn_at=now)
    for days, member, purpose in (
        (1, acme, Purpose.LOAN_APPROVAL),
        (20, globex, Purpose.LOAN_APPROVAL),
        (30.5, initech, Purpose.LOAN_APPROVAL),
        (60, None, Purpose.LOAN_APPROVAL),
        (100, initech, Purpose.GUARANTEE_CHECK),
        (150, acme, Purpose.POST_LOAN_MANAGEMENT),
        (300, globex, Purpose.LOAN_APPROVAL),
        (5, None, Purpose.SELF_INQUIRY),
        (5, None, Purpose.DISPUTE_HANDLING),
    ):
        Inquiry.objects.create(
            member=member,
            subject=subject,
            id_type="resident_id",
            id_hash=subject.id_hash,
            id_masked=subject.id_masked,
            name_hash="x",
            purpose=purpose,
            consent_reference="c",
            hit=True,
            created_at=now - timezone.timedelta(days=days),
        )
    return subject, [acme, globex, initech]


def test_report_when_file_is_busy_matches_orm_reference(busy_file):
    subject, members = busy_file
    assert_same_reports(subject, members)


def test_report_when_profile_not_computed_yet_matches_orm_reference(busy_file):
    subject, members = busy_file
    Profile.objects.filter(subject=subject).delete()
    assert_same_reports(subject, members)
    # Computed for the report, stored only by the aggregation (a read is a read).
    assert not Profile.objects.filter(subject=subject).exists()


def test_report_when_subject_has_no_records_left_matches_orm_reference(acme):
    ingest(acme, csv_bytes([good_row(id_number=ID_B, name="李四")]))
    subject = Subject.objects.get()
    Record.objects.filter(subject=subject).delete()
    Profile.objects.filter(subject=subject).delete()
    assert_same_reports(subject, [acme])


def test_grid_when_history_is_full_matches_orm_reference(acme):
    row = good_row(opened_on=days_ago(1000), payment_history="21" + "N" * 22)
    batch = ingest(acme, csv_bytes([row]))
    assert batch.rows_accepted == 1
    assert_same_reports(Subject.objects.get(), [acme])


@pytest.mark.django_db
def test_subject_report_when_name_matches_reads_report_data_in_same_statement(
    django_assert_num_queries,
):
    """`subject_report_by_identity` gives the subject and exactly `report_data`
    when the stored name matches; the subject alone when it does not."""
    from bureau.records.models import Subject
    from reports.selectors import subject_report_by_identity

    member = MemberFactory(code="acme")
    ingest(member, csv_bytes([good_row(name=" 张三 ")]))
    subject = Subject.objects.get()
    clock = ReportClock.start()
    window = {
        "months_from": clock.months_from,
        "exclude_inquiry_id": uuid.uuid4(),
        "now": clock.now,
    }
    ids = {"id_type": subject.id_type, "id_hashes": [subject.id_hash]}
    with django_assert_num_queries(1):
        found = subject_report_by_identity(name="张三", **ids, **window)
    assert found.subject == subject
    assert found.data == report_data(subject_id=subject.pk, **window)
    other = subject_report_by_identity(name="李四", **ids, **window)
    assert other.subject == subject and other.data is None
    assert (
        subject_report_by_identity(
            name="张三", id_type=subject.id_type, id_hashes=["0" * 64], **window
        )
        is None
    )
