"""Ingest service: merge rules, counts, re-aging, deletes, idempotency."""

import io

import pytest

from bureau.records.models import Batch, BatchError, Record, RecordMonth, Subject
from bureau.records.services.upload import batch_create
from tests.records.helpers import (
    ID_A,
    ID_B,
    ID_BAD_CHECKSUM,
    csv_bytes,
    current_row,
    days_ago,
    good_row,
    ingest,
)

pytestmark = pytest.mark.django_db


def test_new_rows_when_ingested_create_records_and_subjects(acme):
    batch = ingest(
        acme, csv_bytes([good_row(), good_row(account_no="ACC-2", id_number=ID_B)])
    )
    assert batch.status == Batch.Status.COMPLETED
    assert (batch.rows_total, batch.rows_accepted, batch.records_created) == (2, 2, 2)
    assert batch.subjects_touched == 2 and batch.progress == 1.0
    assert Record.objects.filter(member=acme).count() == 2
    subject = Subject.objects.get(id_masked="110105********002X")
    assert subject.name == "张三" and len(subject.id_hash) == 64


def test_identity_when_stored_is_only_hash_and_mask(acme):
    ingest(acme, csv_bytes([good_row()]))
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("records_subject", "records_record", "records_batcherror"):
            cursor.execute(f"SELECT * FROM {table}")
            dump = str(cursor.fetchall())
            assert ID_A not in dump and "13812345678" not in dump


def test_row_with_error_when_ingested_is_rejected_and_batch_goes_on(acme):
    rows = [good_row(), good_row(account_no="ACC-2", id_number=ID_BAD_CHECKSUM)]
    batch = ingest(acme, csv_bytes(rows))
    assert batch.status == Batch.Status.COMPLETED_WITH_ERRORS
    assert (batch.rows_accepted, batch.rows_rejected) == (1, 1)
    error = BatchError.objects.get(batch=batch)
    assert (error.row, error.column, error.code) == (2, "id_number", "invalid_checksum")
    assert ID_BAD_CHECKSUM not in error.value and ID_BAD_CHECKSUM not in error.message


def test_fifteen_digit_id_when_ingested_matches_its_eighteen_digit_form(acme, globex):
    # 110105491231002 is the legacy form of 11010519491231002X.
    ingest(acme, csv_bytes([good_row(id_number="110105491231002")]))
    ingest(globex, csv_bytes([good_row(id_number=ID_A)]))
    subject = Subject.objects.get()
    assert subject.id_masked == "110105********002X"
    assert subject.records.count() == 2


def test_newer_report_when_ingested_updates_record(acme):
    ingest(acme, csv_bytes([good_row(as_of=days_ago(40))]))
    batch = ingest(acme, csv_bytes([current_row(as_of=days_ago(10), balance="7000")]))
    assert (batch.records_updated, batch.records_created) == (1, 0)
    record = Record.objects.get()
    assert record.status == "current" and str(record.balance) == "7000.00"
    # cured account keeps its first delinquency date
    assert record.first_delinquency_on is not None


def test_older_report_when_ingested_is_counted_stale_and_not_applied(acme):
    ingest(acme, csv_bytes([current_row(as_of=days_ago(10))]))
    batch = ingest(acme, csv_bytes([good_row(as_of=days_ago(40))]))
    assert (batch.rows_stale, batch.records_updated) == (1, 0)
    assert Record.objects.get().status == "current"


def test_same_key_twice_in_file_keeps_newest_and_counts_duplicate(acme):
    rows = [good_row(as_of=days_ago(40)), current_row(as_of=days_ago(5))]
    batch = ingest(acme, csv_bytes(rows))
    assert (batch.records_created, batch.rows_duplicate) == (1, 1)
    assert Record.objects.get().status == "current"


def test_duplicate_when_split_across_chunks_is_counted_once(acme, settings):
    settings.BUREAU_INGEST_CHUNK_ROWS = 2
    rows = [
        good_row(as_of=days_ago(40)),
        good_row(account_no="ACC-2"),
        current_row(as_of=days_ago(5)),  # same key as row 1, newer, next chunk
        good_row(account_no="ACC-3", as_of=days_ago(50)),
        good_row(account_no="ACC-3", as_of=days_ago(60)),  # older dup, same chunk
    ]
    batch = ingest(acme, csv_bytes(rows))
    assert batch.chunks_done == 3
    assert (batch.records_created, batch.records_updated, batch.rows_duplicate) == (
        3,
        0,
        2,
    )
    assert Record.objects.get(account_no="ACC-1").status == "current"
    assert str(Record.objects.get(account_no="ACC-3").as_of) == days_ago(50)


def test_reaging_when_update_moves_first_delinquency_later_is_rejected(acme):
    ingest(
        acme,
        csv_bytes(
            [
                good_row(
                    as_of=days_ago(40),
                    first_delinquency_on=days_ago(100),
                    days_overdue="60",
                )
            ]
        ),
    )
    later = good_row(
        as_of=days_ago(10), first_delinquency_on=days_ago(40), days_overdue="30"
    )
    batch = ingest(acme, csv_bytes([later]))
    assert (batch.rows_rejected, batch.records_updated) == (1, 0)
    error = BatchError.objects.get(batch=batch)
    assert (error.row, error.code, error.column) == (
        1,
        "reaging",
        "first_delinquency_on",
    )
    assert str(Record.objects.get().first_delinquency_on) == days_ago(100)


def test_reaging_when_first_delinquency_moves_earlier_is_accepted(acme):
    ingest(
        acme,
        csv_bytes([good_row(as_of=days_ago(40), first_delinquency_on=days_ago(70))]),
    )
    batch = ingest(
        acme,
        csv_bytes(
            [
                good_row(
                    as_of=days_ago(10),
                    first_delinquency_on=days_ago(80),
                    days_overdue="70",
                )
            ]
        ),
    )
    assert (batch.rows_rejected, batch.records_updated) == (0, 1)
    assert str(Record.objects.get().first_delinquency_on) == days_ago(80)


def test_delete_action_when_newer_removes_record_and_history(acme):
    ingest(acme, csv_bytes([good_row(as_of=days_ago(40))]))
    assert RecordMonth.objects.count() == 3
    delete = {
        "account_no": "ACC-1",
        "id_type": "resident_id",
        "id_number": ID_A,
        "as_of": days_ago(5),
        "action": "delete",
    }
    batch = ingest(acme, csv_bytes([delete]))
    assert batch.records_deleted == 1 and batch.subjects_touched == 1
    assert not Record.objects.exists() and not RecordMonth.objects.exists()


def test_delete_then_older_upsert_when_arriving_late_stays_deleted(acme):
    delete = {
        "account_no": "ACC-1",
        "id_type": "resident_id",
        "id_number": ID_A,
        "as_of": days_ago(5),
        "action": "delete",
    }
    ingest(acme, csv_bytes([delete]))
    batch = ingest(acme, csv_bytes([good_row(as_of=days_ago(40))]))
    assert (batch.rows_stale, batch.records_created) == (1, 0)
    assert not Record.objects.exists()


def test_delete_does_not_touch_other_members_rows(acme, globex):
    ingest(acme, csv_bytes([good_row()]))
    ingest(globex, csv_bytes([good_row()]))
    delete = {
        "account_no": "ACC-1",
        "id_type": "resident_id",
        "id_number": ID_A,
        "as_of": days_ago(1),
        "action": "delete",
    }
    ingest(acme, csv_bytes([delete]))
    assert list(Record.objects.values_list("member__code", flat=True)) == ["globex"]


def test_history_when_ingested_fills_months_most_recent_first(acme):
    ingest(
        acme,
        csv_bytes(
            [good_row(as_of=days_ago(0), days_overdue="45", payment_history="21N")]
        ),
    )
    months = list(
        RecordMonth.objects.order_by("-month").values_list("status", flat=True)
    )
    assert months == ["2", "1", "N"]


def test_validate_only_when_ingested_writes_no_record_but_reports(acme):
    rows = [good_row(), good_row(account_no="ACC-2", id_number=ID_BAD_CHECKSUM)]
    batch = ingest(acme, csv_bytes(rows), validate_only=True)
    assert batch.status == Batch.Status.COMPLETED_WITH_ERRORS
    assert (batch.rows_accepted, batch.rows_rejected, batch.records_created) == (
        1,
        1,
        1,
    )
    assert not Record.objects.exists() and not Subject.objects.exists()
    assert BatchError.objects.filter(batch=batch).count() == 1


def test_strict_when_any_row_fails_refuses_whole_batch(acme):
    rows = [good_row(), good_row(account_no="ACC-2", id_number=ID_BAD_CHECKSUM)]
    batch = ingest(acme, csv_bytes(rows), strict=True)
    assert batch.status == Batch.Status.FAILED
    assert "strict" in batch.failure_reason
    assert not Record.objects.exists()
    assert BatchError.objects.filter(batch=batch, code="invalid_checksum").count() == 1


def test_strict_when_all_rows_pass_writes_everything(acme):
    batch = ingest(
        acme, csv_bytes([good_row(), good_row(account_no="ACC-2")]), strict=True
    )
    assert batch.status == Batch.Status.COMPLETED
    assert (batch.rows_total, batch.records_created) == (2, 2)
    assert Record.objects.count() == 2


def test_strict_when_reject_ratio_within_limit_is_accepted(acme, settings):
    settings.BUREAU_MAX_REJECT_RATIO = 0.5
    rows = [good_row(), good_row(account_no="ACC-2", id_number=ID_BAD_CHECKSUM)]
    batch = ingest(acme, csv_bytes(rows), strict=True)
    assert batch.status == Batch.Status.COMPLETED_WITH_ERRORS
    assert Record.objects.count() == 1


def test_same_content_when_uploaded_twice_returns_same_batch(acme):
    data = csv_bytes([good_row()])
    first, created = batch_create(
        member=acme, handle=io.BytesIO(data), filename="a.csv"
    )
    again, created_again = batch_create(
        member=acme, handle=io.BytesIO(data), filename="b.csv"
    )
    assert created and not created_again and again.pk == first.pk


def test_same_idempotency_key_when_reused_returns_same_batch(acme):
    first, _ = batch_create(
        member=acme,
        handle=io.BytesIO(csv_bytes([good_row()])),
        filename="a.csv",
        idempotency_key="k-1",
    )
    other_content = csv_bytes([good_row(account_no="ZZ")])
    again, created = batch_create(
        member=acme,
        handle=io.BytesIO(other_content),
        filename="b.csv",
        idempotency_key="k-1",
    )
    assert not created and again.pk == first.pk


def test_same_content_when_from_another_member_is_a_new_batch(acme, globex):
    data = csv_bytes([good_row()])
    first, _ = batch_create(member=acme, handle=io.BytesIO(data), filename="a.csv")
    other, created = batch_create(
        member=globex, handle=io.BytesIO(data), filename="a.csv"
    )
    assert created and other.pk != first.pk


def test_ingest_when_run_again_after_completion_changes_nothing(acme):
    batch = ingest(acme, csv_bytes([good_row()]))
    from bureau.records.services.ingest import batch_ingest

    again = batch_ingest(batch_id=batch.pk)
    assert again.records_created == 1 and Record.objects.count() == 1


def test_idempotency_key_when_reused_for_other_mode_returns_409(acme):
    from bureau.core.errors import Conflict

    batch_create(
        member=acme,
        handle=io.BytesIO(csv_bytes([good_row()])),
        filename="a.csv",
        idempotency_key="k-2",
        validate_only=True,
    )
    with pytest.raises(Conflict):
        batch_create(
            member=acme,
            handle=io.BytesIO(csv_bytes([good_row()])),
            filename="a.csv",
            idempotency_key="k-2",
        )


def test_name_with_backslash_when_ingested_is_stored_exactly(acme):
    ingest(acme, csv_bytes([good_row(name="O\\Brien 李")]))
    assert Subject.objects.get().name == "O\\Brien 李"


def test_deletes_when_applied_leave_no_orphan_history(acme):
    ingest(acme, csv_bytes([good_row(as_of=days_ago(40)), good_row(account_no="B")]))
    deletes = [
        {
            "account_no": a,
            "id_type": "resident_id",
            "id_number": ID_A,
            "as_of": days_ago(1),
            "action": "delete",
        }
        for a in ("ACC-1", "B")
    ]
    ingest(acme, csv_bytes(deletes))
    orphans = RecordMonth.objects.exclude(record_id__in=Record.objects.values("id"))
    assert not orphans.exists()


def test_subject_or_member_with_records_when_deleted_is_protected(acme):
    # Record's member and subject are not checked by the database (bulk-insert
    # cost); the ORM must still refuse to orphan records.
    from django.db.models import ProtectedError

    ingest(acme, csv_bytes([good_row()]))
    with pytest.raises(ProtectedError):
        Subject.objects.get().delete()
    with pytest.raises(ProtectedError):
        acme.delete()
    assert Record.objects.filter(subject__isnull=False, member=acme).count() == 1


def test_upserts_and_deletes_in_one_chunk_keep_only_months_after_the_delete(acme):
    # Months are written with the record upsert, before the chunk's deletes run:
    # the delete must still erase what it covers, as if it had come first.
    old, new = days_ago(60), days_ago(5)
    rows = [
        good_row(as_of=old, payment_history="12"),
        {
            "account_no": "ACC-1",
            "id_type": "resident_id",
            "id_number": ID_A,
            "as_of": days_ago(30),
            "action": "delete",
        },
        good_row(account_no="B", as_of=new),
    ]
    ingest(acme, csv_bytes(rows))
    assert list(Record.objects.values_list("account_no", flat=True)) == ["B"]
    months = RecordMonth.objects.values_list("record__account_no", "as_of")
    assert {(account, as_of.isoformat()) for account, as_of in months} == {("B", new)}


def test_first_accepted_batch_when_finished_sets_contributes_since_once(acme):
    from django.utils import timezone

    from members.models import Member

    ingest(acme, csv_bytes([good_row()]), validate_only=True)
    assert Member.objects.get(pk=acme.pk).contributes_since is None
    ingest(acme, csv_bytes([good_row(account_no="B")]))
    first = Member.objects.get(pk=acme.pk).contributes_since
    assert first == timezone.localdate()
    Member.objects.filter(pk=acme.pk).update(contributes_since="2020-01-01")
    ingest(acme, csv_bytes([good_row(account_no="C")]))
    assert str(Member.objects.get(pk=acme.pk).contributes_since) == "2020-01-01"


def test_batch_when_it_outgrows_planner_estimate_analyses_tables(acme, monkeypatch):
    # A first large load must not be merged with the empty table's statistics.
    from django.db import connection

    from bureau.records.services import merge

    monkeypatch.setattr(merge.PlannerStatistics, "MIN_ROWS", 2)
    ingest(acme, csv_bytes([good_row(account_no=f"A{i}") for i in range(3)]))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE relname = 'records_record'"
        )
        assert cursor.fetchone()[0] == Record.objects.count() == 3
