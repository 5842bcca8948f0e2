"""Rotating the identity key: stored hashes move up an HMAC chain, look-ups and
ingest keep finding the same person before, during and after the move."""

import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError

from bureau.audit.models import AuditEvent
from bureau.records import events, identity_keys
from bureau.records.identity import identity_hmac
from bureau.records.models import Record, Subject
from reports.models import Inquiry
from reports.services.screening import screening_create, screening_run
from tests.conftest import bearer
from tests.factories import issue_key
from tests.records.helpers import ID_A, ID_B, csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db

K1 = "identity-key-one-" + "a" * 32
K2 = "identity-key-two-" + "b" * 32
QUERIES = "/api/v1/queries/"


@pytest.fixture
def v1(settings):
    settings.BUREAU_IDENTITY_KEY = K1
    settings.BUREAU_IDENTITY_KEY_VERSION = 1
    settings.BUREAU_IDENTITY_KEYS = {1: K1}
    return settings


def switch_to_v2(settings):
    """The deployment step: the new key is current, the old one stays as previous."""
    settings.BUREAU_IDENTITY_KEY = K2
    settings.BUREAU_IDENTITY_KEY_VERSION = 2
    settings.BUREAU_IDENTITY_KEYS = {1: K1, 2: K2}


def rotate(*args) -> tuple[list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_identity_key", *args, stdout=out, stderr=err)
    return out.getvalue().strip().splitlines(), err.getvalue()


def ask(client, key, id_number=ID_A, name="张三"):
    body = {
        "id_type": "resident_id",
        "id_number": id_number,
        "name": name,
        "purpose": "loan_approval",
        "consent_reference": "CONSENT-1",
    }
    return client.post(QUERIES, body, format="json", **bearer(key))


@pytest.fixture
def furnished_v1(v1, acme):
    """张三 (ID_A) and 李四 (ID_B) furnished by Acme under key version 1."""
    ingest(
        acme,
        csv_bytes(
            [
                good_row(account_no="ACME-1"),
                good_row(account_no="ACME-2", id_number=ID_B, name="李四"),
            ]
        ),
    )
    assert set(Subject.objects.values_list("key_version", flat=True)) == {1}
    return acme


def test_chain_when_one_key_is_the_plain_identity_hmac(v1):
    assert identity_keys.lookup_hashes("resident_id", ID_A) == [
        (1, identity_hmac(K1.encode(), "resident_id", ID_A))
    ]


def test_chain_when_rotated_links_each_hash_to_the_one_before(settings, v1):
    switch_to_v2(settings)
    (v2, h2), (v1_, h1) = identity_keys.lookup_hashes("resident_id", ID_A)
    assert (v2, v1_) == (2, 1)
    assert h1 == identity_hmac(K1.encode(), "resident_id", ID_A)
    assert h2 == identity_keys.key_chain().link(2, h1) != h1


def test_chain_when_a_version_is_missing_is_refused(settings, v1):
    settings.BUREAU_IDENTITY_KEY_VERSION = 3
    settings.BUREAU_IDENTITY_KEY = K2
    with pytest.raises(ImproperlyConfigured, match="consecutive"):
        identity_keys.key_chain()


def test_query_when_key_rotated_finds_subject_before_and_after_command(
    api_client, settings, furnished_v1
):
    _, full_key = issue_key(furnished_v1)
    switch_to_v2(settings)
    # During the rotation, before any re-hash: found under its version-1 hash.
    assert ask(api_client, full_key).status_code == 200
    lines, _ = rotate("--batch-size", "1")
    assert lines[-1] == "0"
    expected = identity_keys.current_hash("resident_id", ID_A)
    assert Subject.objects.filter(id_hash=expected, key_version=2).exists()
    assert set(Subject.objects.values_list("key_version", flat=True)) == {2}
    assert ask(api_client, full_key).status_code == 200
    assert ask(api_client, full_key, id_number=ID_B, name="李四").status_code == 200


def test_command_when_run_is_audited_and_running_again_changes_nothing(
    settings, furnished_v1
):
    switch_to_v2(settings)
    rotate()
    event = AuditEvent.objects.get(action="identity_key.rotate")
    assert event.details["rehashed"] == 2 and event.details["remaining"] == 0
    hashes = sorted(Subject.objects.values_list("id_hash", flat=True))
    lines, _ = rotate()
    assert lines[-1] == "0"
    assert sorted(Subject.objects.values_list("id_hash", flat=True)) == hashes


def test_command_with_status_when_run_changes_nothing(settings, furnished_v1):
    switch_to_v2(settings)
    lines, _ = rotate("--status")
    assert lines[-1] == "2"
    assert set(Subject.objects.values_list("key_version", flat=True)) == {1}


def test_ingest_when_rotation_pending_moves_subject_instead_of_duplicating(
    settings, furnished_v1
):
    switch_to_v2(settings)
    ingest(furnished_v1, csv_bytes([good_row(account_no="ACME-3")]))
    assert Subject.objects.count() == 2
    zhang = Subject.objects.get(name="张三")
    assert zhang.key_version == 2
    assert zhang.id_hash == identity_keys.current_hash("resident_id", ID_A)
    assert Record.objects.filter(subject=zhang).count() == 2
    lines, _ = rotate()  # only 李四 is left to move
    assert lines[-1] == "0"
    assert Subject.objects.count() == 2


def test_ingest_when_after_command_updates_the_same_subject(settings, furnished_v1):
    switch_to_v2(settings)
    rotate()
    batch = ingest(
        furnished_v1,
        csv_bytes([good_row(account_no="ACME-1", amount_overdue="1500.00")]),
    )
    assert batch.records_updated == 1 and batch.records_created == 0
    assert Subject.objects.count() == 2


def test_screening_when_rotation_pending_finds_subject(settings, furnished_v1):
    key, _ = issue_key(furnished_v1)
    switch_to_v2(settings)
    people = csv_bytes(
        [{"id_type": "resident_id", "id_number": ID_A, "name": "张三"}],
        columns=("id_type", "id_number", "name"),
    )
    screening = screening_create(
        actor=key,
        member=furnished_v1,
        handle=io.BytesIO(people),
        filename="persons.csv",
        purpose="loan_approval",
        consent_reference="CONSENT-1",
    )
    screening = screening_run(screening_id=screening.pk)
    assert screening.results.get().found is True


def test_command_when_subject_version_has_no_key_fails_clearly(settings, v1, acme):
    ingest(acme, csv_bytes([good_row()]))
    settings.BUREAU_IDENTITY_KEY = K2
    settings.BUREAU_IDENTITY_KEY_VERSION = 2
    settings.BUREAU_IDENTITY_KEYS = {2: K2}  # the version-1 key was dropped
    with pytest.raises(CommandError, match="not configured"):
        rotate()


def test_command_when_current_hash_already_taken_leaves_subject_and_says_so(
    settings, furnished_v1
):
    switch_to_v2(settings)
    # A duplicate made outside the supported paths (e.g. an old-config worker).
    zhang = Subject.objects.get(name="张三")
    Subject.objects.create(
        id_type="resident_id",
        id_hash=identity_keys.current_hash("resident_id", ID_A),
        key_version=2,
        id_masked=zhang.id_masked,
        name=zhang.name,
        name_as_of=zhang.name_as_of,
    )
    lines, err = rotate()
    assert lines[-1] == "1"
    assert str(zhang.pk) in err
    zhang.refresh_from_db()
    assert zhang.key_version == 1


def test_past_inquiries_when_subject_rehashed_move_with_it(
    api_client, settings, furnished_v1
):
    _, full_key = issue_key(furnished_v1)
    assert ask(api_client, full_key, name="王五").status_code == 404  # a miss
    switch_to_v2(settings)
    rotate()
    zhang = Subject.objects.get(name="张三")
    assert Inquiry.objects.filter(id_hash=zhang.id_hash, hit=False).count() == 1


def test_past_inquiries_when_ingest_moves_subject_move_with_it(
    api_client, settings, furnished_v1
):
    _, full_key = issue_key(furnished_v1)
    assert ask(api_client, full_key, name="王五").status_code == 404
    switch_to_v2(settings)
    ingest(furnished_v1, csv_bytes([good_row(account_no="ACME-3")]))
    zhang = Subject.objects.get(name="张三")
    assert zhang.key_version == 2
    assert Inquiry.objects.filter(id_hash=zhang.id_hash, hit=False).count() == 1


def test_rehash_when_run_announces_each_move_inside_its_transaction(
    settings, furnished_v1
):
    before = dict(Subject.objects.values_list("pk", "id_hash"))
    heard = []

    def receiver(sender, signal, *, moves):
        # Inside the move: the subjects carry the new hashes already.
        moved = dict(Subject.objects.values_list("id_hash", "key_version"))
        heard.extend((move, moved.get(move[2])) for move in moves)

    events.subjects_rehashed.connect(receiver, weak=False)
    try:
        switch_to_v2(settings)
        rotate()
    finally:
        events.subjects_rehashed.disconnect(receiver)
    after = dict(Subject.objects.values_list("pk", "id_hash"))
    assert sorted(heard) == sorted(
        (("resident_id", before[pk], after[pk]), 2) for pk in before
    )


def test_rehash_when_a_receiver_fails_leaves_the_subjects_unmoved(
    settings, furnished_v1
):
    def refuse(sender, **payload):
        raise RuntimeError("inquiries could not move")

    events.subjects_rehashed.connect(refuse, weak=False)
    try:
        switch_to_v2(settings)
        with pytest.raises(RuntimeError, match="could not move"):
            rotate()
    finally:
        events.subjects_rehashed.disconnect(refuse)
    assert set(Subject.objects.values_list("key_version", flat=True)) == {1}
