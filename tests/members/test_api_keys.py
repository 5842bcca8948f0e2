"""Member admins manage their own member's keys; the secret is shown once."""

import pytest

from bureau.audit.models import AuditEvent
from members.models import ApiKey
from tests.conftest import bearer
from tests.factories import issue_key

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/keys/"


def test_member_admin_when_creating_key_sees_secret_once(api_client, alice):
    api_client.force_login(alice)
    created = api_client.post(
        KEYS, {"name": "ci", "scopes": ["upload", "query"]}, format="json"
    )
    assert created.status_code == 201
    full_key = created.json()["key"]
    assert full_key.startswith("bk_")
    listed = api_client.get(KEYS).json()
    assert listed["count"] == 1
    assert "key" not in listed["results"][0] and full_key not in str(listed)
    detail = api_client.get(f"{KEYS}{created.json()['id']}/").json()
    assert full_key not in str(detail)
    # and the key works
    api_client.logout()
    assert api_client.get("/api/v1/members/me/", **bearer(full_key)).status_code == 200


def test_key_create_when_audited_records_prefix_not_secret(api_client, alice):
    api_client.force_login(alice)
    full_key = api_client.post(
        KEYS, {"name": "ci", "scopes": ["query"]}, format="json"
    ).json()["key"]
    event = AuditEvent.objects.get(action="api_key.create")
    assert event.actor_user_id == alice.pk and event.member_id == alice.member_id
    assert full_key.split("_")[2] not in str(event.details)


def test_member_admin_when_revoking_key_gets_204_and_key_stops_working(
    api_client, alice, acme
):
    key, full_key = issue_key(acme)
    api_client.force_login(alice)
    assert api_client.delete(f"{KEYS}{key.pk}/").status_code == 204
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert (
        AuditEvent.objects.filter(
            action="api_key.revoke", object_id=str(key.pk)
        ).count()
        == 1
    )
    api_client.logout()
    response = api_client.get("/api/v1/members/me/", **bearer(full_key))
    assert response.json()["code"] == "key_revoked"


def test_stranger_when_reading_or_revoking_other_members_key_gets_404(
    api_client, charlie, acme
):
    key, _ = issue_key(acme)
    api_client.force_login(charlie)
    assert api_client.get(f"{KEYS}{key.pk}/").status_code == 404
    assert api_client.delete(f"{KEYS}{key.pk}/").status_code == 404
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None
    assert api_client.get(KEYS).json()["count"] == 0


def test_analyst_when_managing_keys_gets_403(api_client, bob):
    api_client.force_login(bob)
    assert api_client.get(KEYS).status_code == 403
    assert (
        api_client.post(
            KEYS, {"name": "x", "scopes": ["query"]}, format="json"
        ).status_code
        == 403
    )


def test_key_create_when_network_invalid_returns_400(api_client, alice):
    api_client.force_login(alice)
    response = api_client.post(
        KEYS,
        {"name": "x", "scopes": ["query"], "allowed_networks": ["nope"]},
        format="json",
    )
    assert response.status_code == 400
    assert "allowed_networks" in response.json()["errors"]


def test_key_create_when_name_holds_a_phone_returns_400_and_creates_nothing(
    api_client, alice
):
    api_client.force_login(alice)
    response = api_client.post(
        KEYS, {"name": "ops 13800138000", "scopes": ["query"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["name"] == [
        "Must not contain identity numbers or phones."
    ]
    assert not ApiKey.objects.filter(name__contains="13800138000").exists()


def test_key_create_when_session_lacks_csrf_token_is_refused(alice):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(KEYS, {"name": "x", "scopes": ["query"]}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


def test_members_me_when_user_logged_in_returns_member_and_usage(api_client, bob, acme):
    issue_key(acme)
    api_client.force_login(bob)
    body = api_client.get("/api/v1/members/me/").json()
    assert body["member"]["code"] == "acme"
    assert body["usage"]["api_keys_active"] == 1 and body["usage"]["users"] == 1
