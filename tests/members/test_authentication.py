"""API key authentication: every refusal has its status and problem `code`."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from bureau.audit.models import AuditEvent
from members import keycache
from members.models import ApiKey, Member
from members.services import api_key_revoke
from tests.conftest import bearer
from tests.factories import expired, issue_key

pytestmark = pytest.mark.django_db

ME = "/api/v1/members/me/"


def test_valid_key_when_called_returns_own_member(api_client, acme, acme_key):
    _, full_key = acme_key
    response = api_client.get(ME, **bearer(full_key))
    assert response.status_code == 200
    assert response.json()["member"]["code"] == "acme"


def test_no_credentials_when_called_returns_401_not_authenticated(api_client, acme):
    response = api_client.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer bk_deadbeef_notarealsecret",
        "Bearer garbage",
        "Bearer",
        "Bearer a b",
    ],
)
def test_wrong_key_when_called_returns_401_invalid_key(
    api_client, acme, acme_key, header
):
    response = api_client.get(ME, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_key"


def test_right_prefix_wrong_secret_when_called_returns_401_invalid_key(
    api_client, acme_key
):
    key, _ = acme_key
    response = api_client.get(ME, **bearer(f"bk_{key.prefix}_{'x' * 40}"))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_key"


def test_expired_key_when_called_returns_401_key_expired(api_client, acme):
    key, full_key = issue_key(acme)
    ApiKey.objects.filter(pk=key.pk).update(expires_at=expired())
    response = api_client.get(ME, **bearer(full_key))
    assert response.status_code == 401
    assert response.json()["code"] == "key_expired"


def test_revoked_key_when_called_returns_401_key_revoked(api_client, acme):
    key, full_key = issue_key(acme)
    api_key_revoke(key=key)
    response = api_client.get(ME, **bearer(full_key))
    assert response.status_code == 401
    assert response.json()["code"] == "key_revoked"


def test_key_outside_allowed_networks_when_called_returns_403(api_client, acme):
    _, full_key = issue_key(acme, allowed_networks=["203.0.113.0/24"])
    response = api_client.get(ME, REMOTE_ADDR="198.51.100.7", **bearer(full_key))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_key_inside_allowed_networks_when_called_returns_200(api_client, acme):
    _, full_key = issue_key(acme, allowed_networks=["203.0.113.0/24"])
    response = api_client.get(ME, REMOTE_ADDR="203.0.113.9", **bearer(full_key))
    assert response.status_code == 200


def test_suspended_member_key_when_called_returns_403_member_suspended(
    api_client, acme
):
    _, full_key = issue_key(acme)
    Member.objects.filter(pk=acme.pk).update(status=Member.Status.SUSPENDED)
    response = api_client.get(ME, **bearer(full_key))
    assert response.status_code == 403
    assert response.json()["code"] == "member_suspended"


def test_key_without_scope_when_endpoint_needs_it_returns_403_scope_missing(
    api_client, acme
):
    from members.api.views import MemberMeView

    _, full_key = issue_key(acme, scopes=["monitor"])
    original = MemberMeView.scopes
    MemberMeView.scopes = {"GET": "upload"}
    try:
        response = api_client.get(ME, **bearer(full_key))
    finally:
        MemberMeView.scopes = original
    assert response.status_code == 403
    assert response.json()["code"] == "scope_missing"


def test_key_on_endpoint_without_scope_when_called_returns_403(api_client, acme_key):
    _, full_key = acme_key
    response = api_client.get("/api/v1/keys/", **bearer(full_key))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_key_secret_when_stored_is_not_in_clear(acme):
    key, full_key = issue_key(acme)
    secret = full_key.split("_", 2)[2]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM members_apikey WHERE id = %s", [key.pk])
        row = cursor.fetchone()
    assert all(secret not in str(value) for value in row)
    assert full_key not in str(row)
    assert key.secret_hash != secret and len(key.secret_hash) == 64


def test_last_used_when_key_used_twice_within_a_minute_is_written_once(
    api_client, acme
):
    key, full_key = issue_key(acme)
    api_client.get(ME, **bearer(full_key))
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    api_client.get(ME, **bearer(full_key))
    key.refresh_from_db()
    assert key.last_used_at == first
    # Two minutes pass: the stored time is old, the cached claim has expired and
    # so has this process's copy of the key (seconds).
    ApiKey.objects.filter(pk=key.pk).update(
        last_used_at=timezone.now() - timezone.timedelta(minutes=2)
    )
    cache.clear()
    keycache.forget_local()
    api_client.get(ME, **bearer(full_key))
    key.refresh_from_db()
    assert key.last_used_at > first


def test_failed_authentication_when_key_wrong_is_audited(api_client, acme):
    api_client.get(ME, HTTP_AUTHORIZATION="Bearer bk_deadbeef_nope")
    event = AuditEvent.objects.filter(action="auth.failed").latest("sequence")
    assert event.details["reason"] == "invalid_key"
    assert "nope" not in str(event.details)


def test_failed_authentication_when_path_holds_a_phone_is_401_and_audited_redacted(
    api_client, acme
):
    """The path is the client's text: redacted in the event, never a 500."""
    response = api_client.get(
        "/api/v1/webhooks/13800138000/", HTTP_AUTHORIZATION="Bearer bk_deadbeef_nope"
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_key"
    event = AuditEvent.objects.filter(action="auth.failed").latest("sequence")
    assert event.details["path"] == "/api/v1/webhooks/[redacted]/"
