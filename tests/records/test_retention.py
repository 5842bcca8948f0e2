"""Retention: negative records go BUREAU_RETENTION_YEARS after they ended, with
their history months; the purge recomputes profiles and is audited with counts."""

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from bureau.audit.models import AuditEvent
from bureau.records.models import (
    Dispute,
    Profile,
    Record,
    RecordMonth,
    RecordTombstone,
    Subject,
)
from bureau.records.services import retention
from bureau.records.services.aggregate import profiles_refresh
from bureau.records.services.disputes import dispute_open
from bureau.records.services.retention import records_purge_expired
from members.models import Member, Role
from tests.factories import bureau_user
from tests.records.helpers import (
    ID_A,
    ID_B,
    ID_C,
    csv_bytes,
    current_row,
    days_ago,
    good_row,
    ingest,
)

pytestmark = pytest.mark.django_db

SIX_YEARS_AGO = timezone.localdate() - timedelta(days=6 * 365 + 2)
FOUR_YEARS_AGO = timezone.localdate() - timedelta(days=4 * 365)


def age(account_no: str, as_of) -> Record:
    """Pretend the record's last report (and its months) is from `as_of`."""
    record = Record.objects.get(account_no=account_no)
    Record.objects.filter(pk=record.pk).update(as_of=as_of)
    RecordMonth.objects.filter(record=record).update(as_of=as_of)
    return record


@pytest.fixture
def book(acme, globex):
    """张三 (ID_A): Acme's account settled 6 years ago after a delinquency, Globex's
    overdue 4 years ago. 李四 (ID_B): Acme's never-late account, 6 years ago.
    王五 (ID_C): Acme's default, 6 years ago, his only record."""
    settled = good_row(
        account_no="OLD-SETTLED",
        status="settled",
        balance="0",
        amount_overdue="0",
        days_overdue="0",
        first_delinquency_on=days_ago(75),
        payment_history="C21",
    )
    ingest(
        acme,
        csv_bytes(
            [
                settled,
                current_row(account_no="OLD-CLEAN", id_number=ID_B, name="李四"),
                good_row(
                    account_no="OLD-DEFAULT",
                    id_number=ID_C,
                    name="王五",
                    status="default",
                    days_overdue="200",
                ),
            ]
        ),
    )
    ingest(globex, csv_bytes([good_row(account_no="RECENT")]))
    records = {
        "settled": age("OLD-SETTLED", SIX_YEARS_AGO),
        "clean": age("OLD-CLEAN", SIX_YEARS_AGO),
        "default": age("OLD-DEFAULT", SIX_YEARS_AGO),
        "recent": age("RECENT", FOUR_YEARS_AGO),
    }
    profiles_refresh(subject_ids=Subject.objects.values_list("pk", flat=True))
    return records


def test_purge_when_negative_record_ended_6_years_ago_deletes_it_with_months(book):
    assert RecordMonth.objects.filter(record=book["settled"]).count() == 3

    result = records_purge_expired()

    assert (result.records, result.subjects) == (2, 2)
    assert set(Record.objects.values_list("account_no", flat=True)) == {
        "OLD-CLEAN",  # never delinquent: not a negative record
        "RECENT",  # ended 4 years ago
    }
    gone = [book["settled"].pk, book["default"].pk]
    assert not RecordMonth.objects.filter(record_id__in=gone).exists()
    assert result.months == 6  # 3 months of history each


def test_purge_when_run_recomputes_profiles_of_affected_subjects(book):
    zhang = book["settled"].subject_id
    assert Profile.objects.get(subject_id=zhang).platforms_total == 2

    records_purge_expired()

    assert Profile.objects.get(subject_id=zhang).platforms_total == 1
    # 王五 had nothing else on file: his profile goes too
    assert not Profile.objects.filter(subject_id=book["default"].subject_id).exists()


def test_purge_when_run_is_audited_with_counts_and_no_identities(book):
    records_purge_expired()

    event = AuditEvent.objects.get(action="records.purge_expired")
    details = event.details
    assert (details["records"], details["subjects"], details["years"]) == (2, 2, 5)
    assert details["by_member"] == {"acme": 2}
    assert details["by_status"] == {"default": 1, "settled": 1}
    text = str(details)
    for value in (ID_A, ID_C, "张三", "王五", "OLD-SETTLED"):
        assert value not in text
    assert event.actor_label == "system:retention"


def test_purge_when_a_member_code_is_identity_shaped_redacts_it_and_purges(book, acme):
    """Such a code predates the check at creation: it must not stop the purge."""
    Member.objects.filter(pk=acme.pk).update(code="110105194912310")
    records_purge_expired()
    event = AuditEvent.objects.get(action="records.purge_expired")
    assert event.details["by_member"] == {"[redacted]": 2}
    assert not Record.objects.filter(account_no="OLD-DEFAULT").exists()


def test_purge_when_dry_run_counts_and_changes_nothing(book):
    before = Record.objects.count(), RecordMonth.objects.count()

    result = records_purge_expired(dry_run=True)

    assert result.records == 2 and result.dry_run
    assert dict(result.by_member_status) == {
        ("acme", "default"): 1,
        ("acme", "settled"): 1,
    }
    assert (Record.objects.count(), RecordMonth.objects.count()) == before
    assert not AuditEvent.objects.filter(action="records.purge_expired").exists()


def test_purge_command_when_dry_run_prints_counts_by_member_and_status(book):
    out = io.StringIO()
    call_command("purge_expired", "--dry-run", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[-1] == "2"
    assert any("acme" in line and "default" in line for line in lines)
    assert Record.objects.count() == 4


def test_purge_command_when_run_purges_and_prints_the_count(book):
    out = io.StringIO()
    call_command("purge_expired", stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == "2"
    assert Record.objects.count() == 2


def test_purge_when_nothing_expired_still_audits_the_run(acme):
    ingest(acme, csv_bytes([good_row()]))
    result = records_purge_expired()
    assert result.records == 0
    event = AuditEvent.objects.get(action="records.purge_expired")
    assert event.details["records"] == 0


def test_purge_when_retention_is_longer_keeps_the_records(book, settings):
    settings.BUREAU_RETENTION_YEARS = 7
    assert records_purge_expired().records == 0
    assert Record.objects.count() == 4


def test_purge_when_done_in_chunks_gives_the_same_result(book, monkeypatch):
    monkeypatch.setattr(retention, "PURGE_CHUNK_RECORDS", 1)
    result = records_purge_expired()
    assert result.records == 2
    events = AuditEvent.objects.filter(action="records.purge_expired")
    assert len({e.details["run"] for e in events}) == 1
    assert sorted(e.details["records"] for e in events) == [1, 1]


def test_purge_when_record_disputed_removes_the_dispute_keeps_tombstones(book, acme):
    carol = bureau_user("carol", Role.COMPLIANCE)
    dispute = dispute_open(record=book["settled"], claim="Too old.", actor=carol)
    RecordTombstone.objects.create(
        member=acme,
        subject_id=book["settled"].subject_id,
        account_no="LONG-GONE",
        as_of=SIX_YEARS_AGO,
    )

    result = records_purge_expired()

    assert result.disputes == 1 and not Dispute.objects.filter(pk=dispute.pk).exists()
    assert RecordTombstone.objects.filter(account_no="LONG-GONE").exists()


def test_purge_task_when_scheduled_runs_daily_on_maintenance_queue():
    from bureau.celery import app

    name = "bureau.records.tasks.maintenance_purge_expired"
    assert name in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    app.loader.import_default_modules()
    assert name in app.tasks
    assert app.amqp.router.route({}, name)["queue"].name == "maintenance"


def test_purge_when_member_is_ingesting_leaves_its_records_for_next_run(book, acme):
    # A batch of Acme's holds the member's ingest lock (another session): its
    # records may be in a chunk being merged, so retention leaves them alone.
    import psycopg
    from django.db import connection

    from bureau.records.services.ingest import MEMBER_LOCK_SPACE

    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [MEMBER_LOCK_SPACE, acme.pk])
        result = records_purge_expired()
        assert result.records == 0
        assert Record.objects.filter(pk=book["default"].pk).exists()
        # Released before the session closes: a closing session's locks go a
        # moment after its client is gone, which the next run could still see.
        other.execute("SELECT pg_advisory_unlock(%s, %s)", [MEMBER_LOCK_SPACE, acme.pk])
    result = records_purge_expired()
    assert result.records == 2
    assert not Record.objects.filter(pk=book["default"].pk).exists()
