"""A read is a read: every write that changes what a profile is computed from
stores the new profile itself, so reads never have to.

"Current" means the stored row equals what the aggregation statement computes
now (`profiles_computed`, its SELECT without the INSERT). The writes that change
a profile's inputs: an ingest (its aggregation, queued on commit), a dispute's
correction or confirmation, the daily suppression of unanswered disputes, the
daily retention purge. An identity-key rehash moves hashes only: subject ids and
records stay, so the profile stays current without a refresh. Nothing in a
profile depends on today's date (days overdue are as reported), so no profile
goes stale by time alone; what does age out (retention, dispute deadlines) is
handled by the beat jobs tested here.

Acme and Globex report 张三 (ID_A); Carol is bureau compliance.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from bureau.records import identity_keys
from bureau.records import tasks as record_tasks
from bureau.records.models import Profile, Record, Subject
from bureau.records.selectors import profiles_computed
from bureau.records.services import ingest as ingest_module
from bureau.records.services import upload as upload_module
from bureau.records.services.aggregate import PROFILE_COLUMNS, profiles_refresh
from bureau.records.services.disputes import (
    dispute_answer,
    dispute_open,
    disputes_suppress_overdue,
)
from bureau.records.services.retention import records_purge_expired
from members.models import Role
from tests.factories import bureau_user
from tests.records.helpers import ID_A, csv_bytes, days_ago, good_row, ingest

pytestmark = pytest.mark.django_db

COMPARED = [name for name in PROFILE_COLUMNS if name != "updated_at"]


def figures(profile: Profile | None) -> dict | None:
    if profile is None:
        return None
    return {name: getattr(profile, name) for name in COMPARED}


def assert_current(subject_id: int) -> None:
    stored = Profile.objects.filter(subject_id=subject_id).first()
    computed = profiles_computed(subject_ids=[subject_id]).get(subject_id)
    assert figures(stored) == figures(computed)


@pytest.fixture
def carol(db):
    """Carol works in bureau compliance."""
    return bureau_user("carol", Role.COMPLIANCE)


@pytest.fixture
def aggregation_inline(monkeypatch):
    """The hand-off as the workers run it, inline: the batch's on-commit
    aggregation fans out to aggregate_subjects, which refresh and alert."""
    monkeypatch.setattr(upload_module, "_enqueue", lambda batch_id: None)
    monkeypatch.setattr(ingest_module, "_announce_final", lambda batch_id: None)
    monkeypatch.setattr(
        record_tasks.aggregate_batch, "delay", record_tasks.aggregate_batch
    )
    monkeypatch.setattr(
        record_tasks.aggregate_subjects, "delay", record_tasks.aggregate_subjects
    )


@pytest.fixture
def furnished(acme, globex):
    """张三 on file with both members, profile stored."""
    ingest(acme, csv_bytes([good_row(account_no="ACME-1")]))
    ingest(globex, csv_bytes([good_row(account_no="GLOBEX-7")]))
    subject = Subject.objects.get()
    profiles_refresh(subject_ids=[subject.pk])
    return subject


def test_ingest_when_its_aggregation_ran_leaves_the_profile_current(
    acme, aggregation_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ingest(acme, csv_bytes([good_row(account_no="ACME-1")]))
    subject = Subject.objects.get()
    assert Profile.objects.filter(subject=subject).exists()
    assert_current(subject.pk)

    later = good_row(account_no="ACME-2", days_overdue="120", as_of=days_ago(10))
    with django_capture_on_commit_callbacks(execute=True):
        ingest(acme, csv_bytes([later]), filename="second.csv")
    assert Profile.objects.get(subject=subject).accounts_total == 2
    assert_current(subject.pk)


def test_dispute_when_corrected_leaves_the_profile_current(furnished, carol, alice):
    record = Record.objects.get(account_no="ACME-1")
    dispute = dispute_open(record=record, claim="Paid in full.", actor=carol)
    before = Profile.objects.get(subject=furnished).total_amount_overdue

    dispute_answer(
        dispute=dispute,
        outcome="corrected",
        values={"amount_overdue": "0", "days_overdue": "0", "status": "current"},
        actor=alice,
    )

    assert Profile.objects.get(subject=furnished).total_amount_overdue < before
    assert_current(furnished.pk)


def test_disputes_when_suppressed_past_deadline_leave_the_profile_current(
    furnished, carol
):
    record = Record.objects.get(account_no="ACME-1")
    dispute_open(record=record, claim="Never borrowed.", actor=carol)

    disputes_suppress_overdue(now=timezone.now() + timedelta(days=21))

    assert Profile.objects.get(subject=furnished).accounts_total == 1
    assert_current(furnished.pk)


def test_dispute_when_confirmed_after_suppression_leaves_the_profile_current(
    furnished, carol, alice
):
    record = Record.objects.get(account_no="ACME-1")
    dispute = dispute_open(record=record, claim="Never borrowed.", actor=carol)
    disputes_suppress_overdue(now=timezone.now() + timedelta(days=21))

    dispute_answer(dispute=dispute, outcome="confirmed", actor=alice)

    assert Profile.objects.get(subject=furnished).accounts_total == 2
    assert_current(furnished.pk)


def test_retention_when_a_record_is_purged_leaves_the_profile_current(furnished):
    six_years_ago = timezone.localdate() - timedelta(days=6 * 365 + 2)
    Record.objects.filter(account_no="ACME-1").update(
        as_of=six_years_ago, status="settled", balance=0
    )
    profiles_refresh(subject_ids=[furnished.pk])  # as it stood before the purge

    result = records_purge_expired()

    assert result.records == 1
    assert Profile.objects.get(subject=furnished).accounts_total == 1
    assert_current(furnished.pk)


def test_identity_rehash_when_it_moves_a_subject_leaves_the_profile_current(
    settings, acme
):
    one, two = "identity-key-one-" + "a" * 32, "identity-key-two-" + "b" * 32
    settings.BUREAU_IDENTITY_KEY, settings.BUREAU_IDENTITY_KEY_VERSION = one, 1
    settings.BUREAU_IDENTITY_KEYS = {1: one}
    ingest(acme, csv_bytes([good_row(id_number=ID_A)]))
    subject = Subject.objects.get()
    profiles_refresh(subject_ids=[subject.pk])
    settings.BUREAU_IDENTITY_KEY, settings.BUREAU_IDENTITY_KEY_VERSION = two, 2
    settings.BUREAU_IDENTITY_KEYS = {1: one, 2: two}

    _, moved, _ = identity_keys.rehash_subjects(
        identity_keys.key_chain(), from_version=1, after_id=0, limit=10
    )

    assert moved == 1
    assert Subject.objects.get(pk=subject.pk).key_version == 2
    assert_current(subject.pk)
