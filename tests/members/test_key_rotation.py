"""Rotating an API key: a successor with the same rights, both working for the
overlap, then only the new one."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from bureau.audit.models import AuditEvent
from members.models import ApiKey
from members.services import api_key_revoke, api_key_rotate
from tests.conftest import bearer, db_thread, wait_for_advisory_lock_waiter
from tests.factories import issue_key

pytestmark = pytest.mark.django_db

ME = "/api/v1/members/me/"


def rotate_url(key) -> str:
    return f"/api/v1/keys/{key.pk}/rotate/"


def test_member_admin_when_rotating_key_gets_successor_with_same_settings(
    api_client, alice, acme
):
    expires = timezone.now() + timedelta(days=30)
    old, _ = issue_key(
        acme,
        scopes=["query"],
        name="loan-system",
        allowed_networks=["203.0.113.0/24"],
        expires_at=expires,
    )
    api_client.force_login(alice)
    response = api_client.post(rotate_url(old))
    assert response.status_code == 201
    body = response.json()
    new = ApiKey.objects.get(pk=body["id"])
    assert body["key"].startswith(f"bk_{new.prefix}_")
    assert body["rotated_from"] == old.pk and new.rotated_from_id == old.pk
    assert (new.name, new.scopes, new.allowed_networks, new.expires_at) == (
        "loan-system",
        ["query"],
        ["203.0.113.0/24"],
        expires,
    )
    assert new.prefix != old.prefix
    # The secret is shown this once only.
    assert body["key"] not in str(api_client.get(f"/api/v1/keys/{new.pk}/").json())


def test_rotated_key_when_in_overlap_both_old_and_new_work(
    api_client, alice, acme, settings
):
    settings.BUREAU_KEY_ROTATION_OVERLAP_HOURS = 24
    old, old_full = issue_key(acme)
    assert api_client.get(ME, **bearer(old_full)).status_code == 200  # cached
    _, new_full = api_key_rotate(key=old, actor=alice)
    old.refresh_from_db()
    expected = timezone.now() + timedelta(hours=24)
    assert abs(old.expires_at - expected) < timedelta(minutes=1)
    assert api_client.get(ME, **bearer(old_full)).status_code == 200
    assert api_client.get(ME, **bearer(new_full)).status_code == 200


def test_rotated_key_when_overlap_is_zero_is_refused_on_the_next_request(
    api_client, alice, acme
):
    old, old_full = issue_key(acme)
    assert api_client.get(ME, **bearer(old_full)).status_code == 200  # cached
    _, new_full = api_key_rotate(key=old, actor=alice, overlap_hours=0)
    response = api_client.get(ME, **bearer(old_full))
    assert response.status_code == 401
    assert response.json()["code"] == "key_expired"
    assert api_client.get(ME, **bearer(new_full)).status_code == 200


def test_rotate_when_old_key_expires_before_overlap_ends_keeps_its_expiry(alice, acme):
    soon = timezone.now() + timedelta(hours=2)
    old, _ = issue_key(acme, expires_at=soon)
    new, _ = api_key_rotate(key=old, actor=alice, overlap_hours=24)
    old.refresh_from_db()
    assert old.expires_at == soon and new.expires_at == soon


def test_rotate_when_done_is_audited_with_prefixes_not_secret(api_client, alice, acme):
    old, _ = issue_key(acme)
    api_client.force_login(alice)
    full_key = api_client.post(rotate_url(old)).json()["key"]
    event = AuditEvent.objects.get(action="api_key.rotate")
    assert event.actor_user_id == alice.pk and event.member_id == acme.pk
    assert event.object_id == str(old.pk)
    assert event.details["prefix"] == old.prefix
    assert event.details["new_prefix"] == full_key.split("_")[1]
    assert full_key.split("_")[2] not in str(event.details)


def test_rotate_when_key_already_rotated_returns_409(api_client, alice, acme):
    old, _ = issue_key(acme)
    api_client.force_login(alice)
    assert api_client.post(rotate_url(old)).status_code == 201
    response = api_client.post(rotate_url(old))
    assert response.status_code == 409
    assert ApiKey.objects.filter(rotated_from=old).count() == 1


def test_rotate_when_key_revoked_or_expired_returns_409(api_client, alice, acme):
    revoked, _ = issue_key(acme)
    api_key_revoke(key=revoked)
    expired, _ = issue_key(acme)
    ApiKey.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    api_client.force_login(alice)
    assert api_client.post(rotate_url(revoked)).status_code == 409
    assert api_client.post(rotate_url(expired)).status_code == 409


def test_stranger_when_rotating_other_members_key_gets_404(api_client, charlie, acme):
    old, _ = issue_key(acme)
    api_client.force_login(charlie)
    assert api_client.post(rotate_url(old)).status_code == 404
    assert not ApiKey.objects.filter(rotated_from=old).exists()


def test_analyst_or_key_when_rotating_gets_403(api_client, bob, acme):
    old, old_full = issue_key(acme)
    api_client.force_login(bob)
    assert api_client.post(rotate_url(old)).status_code == 403
    api_client.logout()
    assert api_client.post(rotate_url(old), **bearer(old_full)).status_code == 403


def test_rotate_api_key_command_when_run_prints_new_key_last(acme):
    old, _ = issue_key(acme, scopes=["upload"])
    out = io.StringIO()
    call_command(
        "rotate_api_key", f"bk_{old.prefix}", "--overlap-hours", "2", stdout=out
    )
    new_full = out.getvalue().strip().splitlines()[-1]
    new = ApiKey.objects.get(rotated_from=old)
    assert new_full.startswith(f"bk_{new.prefix}_") and new.scopes == ["upload"]
    old.refresh_from_db()
    expected = timezone.now() + timedelta(hours=2)
    assert abs(old.expires_at - expected) < timedelta(minutes=1)
    event = AuditEvent.objects.get(action="api_key.rotate")
    assert event.actor_label == "command:rotate_api_key"


@pytest.mark.django_db(transaction=True)
def test_rotation_when_a_query_of_the_key_holds_the_audit_lock_does_not_deadlock(
    acme,
):
    """A query's write holds the audit chain lock and, at commit, checks its
    inquiry's foreign key to the API key (KEY SHARE). A rotation locks that key
    row, then waits for the chain lock to audit itself. The row lock must leave
    KEY SHARE free, or the two wait for each other until PostgreSQL kills one."""
    import threading

    from django.db import connection, transaction

    from bureau.audit.services import _CHAIN_LOCK_KEY
    from reports.models import Inquiry
    from tests.factories import an_inquiry

    key, _ = issue_key(acme)
    holding, go = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def query():
        with transaction.atomic():
            with connection.cursor() as cursor:
                lock = "SELECT pg_advisory_xact_lock(%s)"
                cursor.execute(lock, [_CHAIN_LOCK_KEY])
            holding.set()
            go.wait(10)
            Inquiry.objects.create(**an_inquiry(acme, api_key=key))

    threads = [
        db_thread(query, errors),
        db_thread(lambda: api_key_rotate(key=key), errors),
    ]
    threads[0].start()
    assert holding.wait(10)
    threads[1].start()
    wait_for_advisory_lock_waiter()  # the rotation, for the chain lock
    go.set()
    for thread in threads:
        thread.join(15)
    assert errors == []
    assert Inquiry.objects.filter(api_key=key).count() == 1
    assert ApiKey.objects.filter(rotated_from=key).count() == 1
