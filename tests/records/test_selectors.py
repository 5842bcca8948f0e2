"""Reads of records never write: profiles not stored yet are computed, not
stored; the furnisher's disputes, open and closed; a batch's touched subjects.

Acme and Globex report 张三 (ID_A); Carol is bureau compliance.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bureau.records.models import BatchSubject, Dispute, Profile, Record, Subject
from bureau.records.selectors import (
    batch_subject_ids,
    disputes_closed,
    disputes_visible_to,
    member_contributed_recently,
    profile_of,
    profiles_computed,
)
from bureau.records.services.aggregate import PROFILE_COLUMNS, profiles_refresh
from bureau.records.services.disputes import dispute_answer, dispute_open
from members.models import Role
from tests.factories import bureau_user
from tests.records.helpers import ID_B, csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def furnished(acme, globex):
    ingest(acme, csv_bytes([good_row(account_no="ACME-1")]))
    ingest(globex, csv_bytes([good_row(account_no="GLOBEX-7", days_overdue="100")]))
    return Subject.objects.get()


def test_profile_of_when_not_stored_computes_it_and_stores_nothing(furnished):
    with CaptureQueriesContext(connection) as captured:
        computed = profile_of(subject_id=furnished.pk)

    assert all(
        q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
        and "INSERT" not in q["sql"].upper()
        for q in captured.captured_queries
    )
    assert not Profile.objects.exists()
    profiles_refresh(subject_ids=[furnished.pk])
    stored = Profile.objects.get(subject=furnished)
    for name in PROFILE_COLUMNS:
        if name != "updated_at":
            assert getattr(computed, name) == getattr(stored, name), name


def test_profile_of_when_stored_reads_the_stored_row(furnished):
    profiles_refresh(subject_ids=[furnished.pk])
    Profile.objects.filter(subject=furnished).update(platforms_total=7)
    assert profile_of(subject_id=furnished.pk).platforms_total == 7


def test_profiles_computed_when_subject_has_no_counted_record_leaves_it_out(
    furnished, acme
):
    ingest(acme, csv_bytes([good_row(account_no="B-1", id_number=ID_B, name="李四")]))
    other = Subject.objects.exclude(pk=furnished.pk).get()
    Record.objects.filter(subject=other).update(suppressed=True)
    assert set(profiles_computed(subject_ids=[furnished.pk, other.pk])) == {
        furnished.pk
    }
    assert profile_of(subject_id=other.pk) is None


def test_disputes_when_one_answered_open_and_closed_lists_split_them(
    furnished, acme, alice
):
    carol = bureau_user("carol", Role.COMPLIANCE)
    first, second = Record.objects.order_by("pk")
    answered = dispute_open(record=first, claim="Paid.", actor=carol)
    dispute_answer(dispute=answered, outcome="confirmed", actor=alice)
    still_open = dispute_open(record=second, claim="Not mine.", actor=carol)

    assert list(disputes_visible_to(member=None, status=Dispute.Status.OPEN)) == [
        still_open
    ]
    assert list(disputes_visible_to(member=acme)) == [answered]
    assert list(disputes_closed(member=acme, limit=10)) == [answered]
    assert list(disputes_closed(member=acme, limit=0)) == []


def test_batch_subject_ids_when_batch_touched_a_subject_lists_it(furnished):
    batch_id = BatchSubject.objects.values_list("batch_id", flat=True).first()
    assert list(batch_subject_ids(batch_id=batch_id)) == [furnished.pk]


def test_give_to_get_when_a_batch_finishes_is_read_anew(
    acme, monkeypatch, django_capture_on_commit_callbacks
):
    """The answer is cached by the read; the batch's finishing (the write that
    changes it) forgets it on commit, so the next read sees the batch."""
    from bureau.records.services import ingest as ingest_module
    from bureau.records.services import upload as upload_module

    monkeypatch.setattr(upload_module, "_enqueue", lambda batch_id: None)
    monkeypatch.setattr(ingest_module, "_enqueue_aggregation", lambda batch_id: None)
    monkeypatch.setattr(ingest_module, "_announce_final", lambda batch_id: None)
    assert not member_contributed_recently(member=acme, days=30)  # cached: none

    with django_capture_on_commit_callbacks(execute=True):
        ingest(acme, csv_bytes([good_row()]))

    assert member_contributed_recently(member=acme, days=30)
