"""A member's batches are applied in upload order: a batch waiting behind earlier
ones says how many, in the API and on the upload pages; a run of a later batch
applies the earlier ones first; validate-only batches wait for nobody."""

import io

import pytest
from django.urls import reverse

from bureau.records.models import Batch
from bureau.records.services.ingest import batch_ingest
from bureau.records.services.upload import batch_create
from tests.conftest import bearer
from tests.factories import UserFactory
from tests.records.helpers import csv_bytes, good_row

pytestmark = pytest.mark.django_db


def upload(member, account, **kwargs) -> Batch:
    data = csv_bytes([good_row(account_no=account)])
    batch, _ = batch_create(
        member=member, handle=io.BytesIO(data), filename=f"{account}.csv", **kwargs
    )
    return batch


def ahead(api_client, key, batch) -> int:
    body = api_client.get(f"/api/v1/batches/{batch.pk}/", **bearer(key)).json()
    return body["batches_ahead"]


def test_batch_when_earlier_ones_wait_says_how_many_are_ahead(
    api_client, acme, acme_key, globex
):
    _, key = acme_key
    first, second = upload(acme, "A-1"), upload(acme, "A-2")
    check = upload(acme, "A-3", validate_only=True)
    upload(globex, "G-1")  # another member's batch is no one's business here
    third = upload(acme, "A-4")
    assert [ahead(api_client, key, b) for b in (first, second, third)] == [0, 1, 2]
    assert ahead(api_client, key, check) == 0
    listed = api_client.get("/api/v1/batches/", **bearer(key)).json()["results"]
    assert {b["id"]: b["batches_ahead"] for b in listed}[third.pk] == 2

    batch_ingest(batch_id=first.pk)
    assert ahead(api_client, key, third) == 1


def test_upload_answer_when_batches_wait_carries_batches_ahead(
    api_client, acme, acme_key
):
    _, key = acme_key
    upload(acme, "A-1")
    response = api_client.post(
        "/api/v1/batches/",
        {"file": io.BytesIO(csv_bytes([good_row(account_no="A-2")]))},
        format="multipart",
        **bearer(key),
    )
    assert response.status_code == 202, response.json()
    assert response.json()["batches_ahead"] == 1


def test_later_batch_when_run_first_applies_the_earlier_ones_before_it(acme):
    first, second = upload(acme, "A-1"), upload(acme, "A-2")
    batch_ingest(batch_id=second.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == "completed"
    assert first.finished_at <= second.started_at


def test_validate_only_batch_when_run_does_not_apply_earlier_batches(acme):
    first = upload(acme, "A-1")
    check = upload(acme, "A-2", validate_only=True)
    batch_ingest(batch_id=check.pk)
    first.refresh_from_db()
    assert first.status == "received"


def test_upload_page_when_batch_waits_says_so(client, acme):
    client.force_login(UserFactory(username="ursula", role="uploader", member=acme))
    upload(acme, "A-1")
    waiting = upload(acme, "A-2")
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    page = client.get(
        reverse("web:batch-detail", args=[waiting.pk]), **english
    ).content.decode()
    assert 'data-batches-ahead="1"' in page
    assert "1 earlier batch of your member is applied first" in page
    listing = client.get(reverse("web:batch-list"), **english).content.decode()
    assert "(1 ahead)" in listing


def test_upload_page_when_batch_waits_says_so_in_chinese(client, acme):
    client.force_login(UserFactory(username="ursula", role="uploader", member=acme))
    upload(acme, "A-1")
    waiting = upload(acme, "A-2")
    page = client.get(
        reverse("web:batch-detail", args=[waiting.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "排队" in page


@pytest.fixture
def other_session():
    """A second database session (another worker)."""
    import psycopg
    from django.db import connection

    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as s:
        yield s


def _hold_member_lock(session, member) -> None:
    from bureau.records.services.ingest import MEMBER_LOCK_SPACE

    session.execute("SELECT pg_advisory_lock(%s, %s)", [MEMBER_LOCK_SPACE, member.pk])


def _release_member_lock(session, member) -> None:
    from bureau.records.services.ingest import MEMBER_LOCK_SPACE

    session.execute("SELECT pg_advisory_unlock(%s, %s)", [MEMBER_LOCK_SPACE, member.pk])


def test_member_busy_when_another_session_holds_the_lock_says_so(acme, other_session):
    from bureau.records.services.ingest import member_busy

    assert member_busy(acme.pk) is False
    _hold_member_lock(other_session, acme)
    assert member_busy(acme.pk) is True
    _release_member_lock(other_session, acme)
    assert member_busy(acme.pk) is False


def test_sweep_when_a_processing_batch_has_no_live_owner_queues_it(
    acme, globex, other_session
):
    from bureau.records.services.ingest import batches_resume_stalled

    orphan = upload(acme, "A-1")
    behind = upload(acme, "A-2")
    running = upload(globex, "G-1")
    Batch.objects.filter(pk__in=[orphan.pk, running.pk]).update(status="processing")
    _hold_member_lock(other_session, globex)  # Globex's worker is alive
    assert batches_resume_stalled() == [orphan.pk]  # behind waits for it
    assert Batch.objects.get(pk=behind.pk).status == "received"


def test_sweep_when_a_received_batch_waits_past_the_grace_queues_it(
    acme, time_machine, settings
):
    from django.utils import timezone

    from bureau.records.services.ingest import batches_resume_stalled

    settings.BUREAU_INGEST_RECEIVED_GRACE_SECONDS = 120
    time_machine.move_to(timezone.now(), tick=False)
    lost = upload(acme, "A-1")
    check = upload(acme, "A-2", validate_only=True)
    assert batches_resume_stalled() == []  # its message may still be on its way
    time_machine.shift(121)
    assert batches_resume_stalled() == [lost.pk, check.pk]
