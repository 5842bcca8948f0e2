"""A member's own screenings, watches, webhooks and the look-ups of a subject
(reads moved out of the services): Acme sees its own, Globex's stay Globex's,
bureau staff (member None) have none of the member-owned kinds."""

import pytest
from django.utils import timezone

from bureau.records.models import Subject
from reports.models import Inquiry, Screening, Watch, Webhook
from reports.selectors import (
    inquiries_about,
    screenings_of_member,
    watches_of_member,
    webhooks_of_member,
)
from tests.records.helpers import csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject(acme):
    ingest(acme, csv_bytes([good_row()]))
    return Subject.objects.get()


def _screening(member):
    return Screening.objects.create(
        member=member, purpose="loan_approval", consent_reference="C-1", format="csv"
    )


def _watch(member, subject, **fields):
    return Watch.objects.create(
        member=member, subject=subject, consent_reference="C-1", **fields
    )


def _webhook(member, **fields):
    return Webhook.objects.create(
        member=member, url="https://example.com/hook", events=["batch.completed"],
        secret="s", **fields,
    )  # fmt: skip


def test_screenings_of_member_when_two_members_screen_lists_only_own(acme, globex):
    own = _screening(acme)
    _screening(globex)
    assert list(screenings_of_member(member=acme)) == [own]
    assert list(screenings_of_member(member=None)) == []


def test_watches_of_member_when_one_deleted_lists_only_live_own(acme, globex, subject):
    live = _watch(acme, subject)
    _watch(acme, subject, deleted_at=timezone.now())
    _watch(globex, subject)
    assert list(watches_of_member(member=acme)) == [live]
    assert list(watches_of_member(member=None)) == []


def test_webhooks_of_member_when_one_inactive_lists_only_active_own(acme, globex):
    active = _webhook(acme)
    _webhook(acme, active=False)
    _webhook(globex)
    assert list(webhooks_of_member(member=acme)) == [active]
    assert list(webhooks_of_member(member=None)) == []


def test_inquiries_about_when_a_miss_had_the_number_lists_it_too(acme, subject):
    common = {"member": acme, "id_type": subject.id_type, "purpose": "loan_approval"}
    hit = Inquiry.objects.create(subject=subject, id_hash=subject.id_hash, hit=True,
                                 **common)  # fmt: skip
    miss = Inquiry.objects.create(id_hash=subject.id_hash, hit=False, **common)
    Inquiry.objects.create(id_hash="0" * 64, hit=False, **common)
    assert set(inquiries_about(subject)) == {hit, miss}
