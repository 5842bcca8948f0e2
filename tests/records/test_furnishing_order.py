"""Between two reports of one key with the same as_of, the one furnished later
wins: the batch's place in the member's upload order, then the row's place in its
file; never a content hash. An identical re-send is unchanged, an older as_of is
stale, and a dispute correction is furnished after every batch before it."""

import io

import pytest

from bureau.records.models import Batch, Record, RecordMonth, Subject
from bureau.records.services.disputes import dispute_answer, dispute_open
from bureau.records.services.ingest import batch_ingest
from bureau.records.services.upload import batch_create
from members.models import Role
from tests.factories import bureau_user
from tests.records.helpers import csv_bytes, days_ago, good_row, ingest

pytestmark = pytest.mark.django_db

# Many values, so that a rule decided by a digest of the values would lose some
# of these corrections (about half of them) whatever day the suite runs.
BALANCES = [f"{7000 + 37 * i}.00" for i in range(16)]


def upload(member, rows) -> Batch:
    batch, _ = batch_create(
        member=member, handle=io.BytesIO(csv_bytes(rows)), filename="r.csv"
    )
    return batch


def stored(member, account="ACC-1") -> Record:
    return Record.objects.get(member=member, account_no=account)


@pytest.mark.parametrize("balance", BALANCES)
def test_same_as_of_correction_when_furnished_later_is_applied(acme, balance):
    ingest(acme, csv_bytes([good_row(balance="8000.00")]))
    batch = ingest(acme, csv_bytes([good_row(balance=balance)]))
    assert (batch.records_updated, batch.rows_stale) == (1, 0)
    assert str(stored(acme).balance) == balance


@pytest.mark.parametrize("balance", BALANCES[:6])
def test_same_as_of_reports_when_processed_out_of_order_end_as_uploaded(acme, balance):
    first = upload(acme, [good_row(balance="8000.00")])
    second = upload(acme, [good_row(balance=balance)])
    batch_ingest(batch_id=second.pk)  # its message came first
    batch_ingest(batch_id=first.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.records_created, second.records_updated) == (1, 1)
    assert str(stored(acme).balance) == balance


def test_identical_resend_when_furnished_again_is_unchanged(acme):
    ingest(acme, csv_bytes([good_row()]))
    batch = ingest(acme, csv_bytes([good_row(), good_row(account_no="ACC-2")]))
    assert (batch.rows_unchanged, batch.records_updated) == (1, 0)


def test_older_as_of_when_furnished_later_is_stale(acme):
    ingest(acme, csv_bytes([good_row(as_of=days_ago(10), balance="8000.00")]))
    batch = ingest(acme, csv_bytes([good_row(as_of=days_ago(20), balance="1.00")]))
    assert (batch.rows_stale, batch.records_updated) == (1, 0)
    assert str(stored(acme).balance) == "8000.00"


@pytest.mark.parametrize("balances", [("1.00", "9999.00"), ("9999.00", "1.00")])
def test_same_key_twice_in_a_file_when_same_as_of_keeps_the_later_row(acme, balances):
    batch = ingest(acme, csv_bytes([good_row(balance=b) for b in balances]))
    assert (batch.records_created, batch.rows_duplicate) == (1, 1)
    assert str(stored(acme).balance) == balances[1]


@pytest.mark.parametrize("chunk_rows", [1, 50_000])
def test_delete_then_upsert_when_same_as_of_in_one_file_keeps_the_upsert(
    acme, settings, chunk_rows
):
    settings.BUREAU_INGEST_CHUNK_ROWS = chunk_rows
    ingest(acme, csv_bytes([good_row(as_of=days_ago(40))]))
    delete = good_row(action="delete")
    ingest(acme, csv_bytes([delete, good_row(balance="123.00")]))
    assert str(stored(acme).balance) == "123.00"
    months = RecordMonth.objects.filter(record=stored(acme))
    assert months.filter(as_of=days_ago(30)).exists()
    assert not months.filter(as_of=days_ago(40)).exists()  # the delete erased those


@pytest.mark.parametrize("chunk_rows", [1, 50_000])
def test_upsert_then_delete_when_same_as_of_in_one_file_deletes(
    acme, settings, chunk_rows
):
    settings.BUREAU_INGEST_CHUNK_ROWS = chunk_rows
    ingest(acme, csv_bytes([good_row(), good_row(action="delete")]))
    assert not Record.objects.filter(member=acme).exists()
    assert not RecordMonth.objects.exists()


def test_upsert_when_same_as_of_as_an_earlier_delete_is_applied(acme):
    ingest(acme, csv_bytes([good_row(balance="1.00")]))
    ingest(acme, csv_bytes([good_row(action="delete")]))
    batch = ingest(acme, csv_bytes([good_row(balance="2.00")]))
    assert batch.records_created == 1
    assert str(stored(acme).balance) == "2.00"


@pytest.mark.parametrize("names", [("张三", "张叁"), ("张叁", "张三")])
def test_name_when_corrected_with_the_same_as_of_is_the_later_one(acme, names):
    for name in names:
        ingest(acme, csv_bytes([good_row(name=name)]))
    assert Subject.objects.get().name == names[1]


@pytest.mark.parametrize("statuses", [("current", "overdue"), ("overdue", "current")])
def test_month_when_corrected_with_the_same_as_of_is_the_later_one(acme, statuses):
    for status in statuses:
        row = good_row(status=status, payment_history="")
        if status == "current":
            row.update(days_overdue="0", amount_overdue="0")
        ingest(acme, csv_bytes([row]))
    month = RecordMonth.objects.get(record=stored(acme), as_of=days_ago(30))
    assert month.status == ("N" if statuses[1] == "current" else "2")  # 45 days


def test_dispute_correction_when_an_earlier_batch_is_still_queued_sticks(acme, alice):
    ingest(acme, csv_bytes([good_row(balance="8000.00")]))
    record = stored(acme)
    carol = bureau_user("carol", Role.COMPLIANCE)
    dispute = dispute_open(record=record, claim="Balance is wrong.", actor=carol)
    queued = upload(acme, [good_row(balance="7777.00")])  # before the correction
    dispute_answer(
        dispute=dispute,
        outcome="corrected",
        values={"balance": "5000.00"},
        actor=alice,
    )
    batch_ingest(batch_id=queued.pk)
    queued.refresh_from_db()
    assert queued.rows_stale == 1
    assert str(stored(acme).balance) == "5000.00"
    after = ingest(acme, csv_bytes([good_row(balance="4000.00")]))
    assert after.records_updated == 1  # a batch uploaded after it wins again
    assert str(stored(acme).balance) == "4000.00"
