"""Sharing a batch with an analyst: a django-guardian object permission.

Alice (Acme's member admin) shares one batch with Bob (Acme's analyst, who reads no
batch by role). Charlie is Globex's member admin: a stranger to Acme's batches.
"""

import pytest
from guardian.models import UserObjectPermission

from bureau.audit.models import AuditEvent
from bureau.core.errors import ValidationFailed
from bureau.records.services.sharing import batch_share
from tests.conftest import bearer
from tests.factories import UserFactory, issue_key
from tests.records.helpers import ID_BAD_CHECKSUM, csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db
BATCHES = "/api/v1/batches/"


@pytest.fixture
def batch(acme):
    """An Acme batch with one accepted and one rejected row."""
    rows = [
        good_row(account_no="A-1"),
        good_row(account_no="A-2", id_number=ID_BAD_CHECKSUM),
    ]
    return ingest(acme, csv_bytes(rows))


@pytest.fixture
def second_batch(acme):
    return ingest(acme, csv_bytes([good_row(account_no="A-3")]))


def share(client, batch, username):
    return client.post(
        f"{BATCHES}{batch.pk}/share/", {"username": username}, format="json"
    )


def readable(client, batch) -> list[int]:
    paths = ("", "errors/", "errors/?format=csv")
    return [client.get(f"{BATCHES}{batch.pk}/{path}").status_code for path in paths]


def test_share_when_member_admin_shares_with_analyst_lets_analyst_read_batch(
    api_client, alice, bob, batch
):
    api_client.force_login(bob)
    assert readable(api_client, batch) == [404, 404, 404]

    api_client.force_login(alice)
    response = share(api_client, batch, "bob")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "batch": batch.pk,
        "username": "bob",
        "permission": "records.view_batch",
    }

    api_client.force_login(bob)
    assert readable(api_client, batch) == [200, 200, 200]
    errors = api_client.get(f"{BATCHES}{batch.pk}/errors/").json()
    assert [e["row"] for e in errors["results"]] == [2]


def test_share_when_granted_is_audited_as_batch_share(api_client, alice, bob, batch):
    api_client.force_login(alice)
    share(api_client, batch, "bob")
    event = AuditEvent.objects.get(action="batch.share")
    assert (event.actor_label, event.member_id) == ("alice", batch.member_id)
    assert (event.object_type, event.object_id) == ("records.batch", str(batch.pk))
    assert event.details == {
        "user": bob.pk,
        "username": "bob",
        "permission": "records.view_batch",
    }


def test_share_when_username_is_phone_shaped_is_audited_redacted(
    api_client, alice, acme, batch
):
    """Such a name can only come from the admin site (user_create refuses it)."""
    UserFactory(username="13800138000", role="analyst", member=acme)
    api_client.force_login(alice)
    assert share(api_client, batch, "13800138000").status_code in (200, 201, 204)
    event = AuditEvent.objects.get(action="batch.share")
    assert event.details["username"] == "[redacted]"


def test_shared_analyst_when_reading_another_batch_gets_404(
    api_client, alice, bob, batch, second_batch
):
    batch_share(batch=batch, user=bob, actor=alice)
    api_client.force_login(bob)
    assert readable(api_client, second_batch) == [404, 404, 404]


def test_shared_analyst_when_listing_batches_still_gets_403(
    api_client, alice, bob, batch
):
    batch_share(batch=batch, user=bob, actor=alice)
    api_client.force_login(bob)
    assert api_client.get(BATCHES).status_code == 403


def test_shared_analyst_when_moved_to_another_member_loses_access(
    api_client, alice, bob, batch, globex
):
    batch_share(batch=batch, user=bob, actor=alice)
    bob.member = globex
    bob.save()
    api_client.force_login(bob)
    assert readable(api_client, batch) == [404, 404, 404]


def test_share_when_repeated_keeps_one_grant(api_client, alice, bob, batch):
    api_client.force_login(alice)
    assert share(api_client, batch, "bob").status_code == 200
    assert share(api_client, batch, "bob").status_code == 200
    assert UserObjectPermission.objects.filter(user=bob).count() == 1


def test_share_when_username_belongs_to_other_member_returns_400_like_unknown(
    api_client, alice, charlie, batch
):
    api_client.force_login(alice)
    stranger = share(api_client, batch, "charlie")
    unknown = share(api_client, batch, "nobody-at-all")
    assert stranger.status_code == unknown.status_code == 400
    # Same answer: nothing tells Alice that "charlie" exists elsewhere.
    assert stranger.json()["errors"] == unknown.json()["errors"]
    assert not UserObjectPermission.objects.exists()


def test_share_when_target_is_not_an_analyst_returns_400(
    api_client, alice, acme, batch
):
    UserFactory(username="ursula", role="uploader", member=acme)
    api_client.force_login(alice)
    response = share(api_client, batch, "ursula")
    assert response.status_code == 400
    assert "username" in response.json()["errors"]
    assert not UserObjectPermission.objects.exists()


def test_share_when_batch_belongs_to_other_member_returns_404(
    api_client, charlie, globex, batch
):
    UserFactory(username="gina", role="analyst", member=globex)
    api_client.force_login(charlie)
    assert share(api_client, batch, "gina").status_code == 404


@pytest.mark.parametrize("role", ["uploader", "analyst"])
def test_share_when_called_by_other_member_roles_returns_403(
    api_client, acme, bob, batch, role
):
    caller = UserFactory(username=f"caller-{role}", role=role, member=acme)
    api_client.force_login(caller)
    assert share(api_client, batch, "bob").status_code == 403


def test_share_when_called_with_an_api_key_returns_403(api_client, acme, bob, batch):
    _, key = issue_key(acme)
    path = f"{BATCHES}{batch.pk}/share/"
    response = api_client.post(path, {"username": "bob"}, format="json", **bearer(key))
    assert response.status_code == 403


def test_batch_share_service_when_user_of_other_member_refuses(alice, charlie, batch):
    with pytest.raises(ValidationFailed):
        batch_share(batch=batch, user=charlie, actor=alice)
    assert not UserObjectPermission.objects.exists()


def test_batch_share_service_when_user_deactivated_refuses(alice, bob, batch):
    bob.is_active = False
    bob.save()
    with pytest.raises(ValidationFailed):
        batch_share(batch=batch, user=bob, actor=alice)
