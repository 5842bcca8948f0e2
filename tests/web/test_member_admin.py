"""Member admin pages: API keys (issue, show once, rotate, revoke), users, usage."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from bureau.audit.models import AuditEvent
from members.models import ApiKey
from tests.factories import DEFAULT_PASSWORD, UserFactory, issue_key
from tests.web.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

FULL_KEY = re.compile(r"bk_[0-9a-f]{8}_[A-Za-z0-9]{40}")


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def _create(client, **fields):
    data = {"name": "nightly upload", "scopes": ["upload"], **fields}
    return client.post(reverse("web:key-create"), data)


# --- permissions ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["uploader", "analyst"])
def test_keys_page_when_not_member_admin_is_forbidden(client, acme, role):
    client.force_login(UserFactory(username="u", role=role, member=acme))
    assert client.get(reverse("web:keys")).status_code == 403
    assert _create(client).status_code == 403
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("name", ["web:key-revoke", "web:key-rotate"])
def test_key_actions_when_other_members_key_are_404(client, charlie, acme_key, name):
    key, _ = acme_key
    client.force_login(charlie)  # Globex's member admin
    url = reverse(name, kwargs={"key_id": key.pk})
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None and key.expires_at is None
    assert not ApiKey.objects.filter(rotated_from=key).exists()


def test_keys_page_when_other_member_has_keys_lists_only_own(as_alice, acme, globex):
    own, _ = issue_key(acme, name="ours")
    theirs, _ = issue_key(globex, name="theirs")
    page = as_alice.get(reverse("web:keys")).content.decode()
    assert own.prefix in page and theirs.prefix not in page


# --- list, users, usage -----------------------------------------------------------


def test_keys_page_when_member_admin_shows_keys_users_and_usage(
    as_alice, acme, bob, acme_key
):
    key, full_key = acme_key
    page = as_alice.get(reverse("web:keys")).content.decode()
    assert key.display in page and full_key not in page
    assert "alice" in page and "bob" in page
    assert '<div class="value">2</div>' in page  # active users
    assert '<div class="value">1</div>' in page  # active keys


# --- the new key, shown once ------------------------------------------------------


def test_key_create_when_valid_shows_full_key_once(as_alice, acme):
    response = _create(as_alice, expires_in_days="30", allowed_networks="10.0.0.0/8")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:key-created")

    shown = as_alice.get(reverse("web:key-created"))
    page = shown.content.decode()
    full_key = FULL_KEY.search(page).group(0)
    key = ApiKey.objects.get(member=acme)
    assert full_key.startswith(f"bk_{key.prefix}_")
    assert key.scopes == ["upload"] and key.allowed_networks == ["10.0.0.0/8"]
    assert key.expires_at is not None
    assert "no-store" in shown["Cache-Control"]

    again = as_alice.get(reverse("web:key-created"))
    assert again.status_code == 302 and again["Location"] == reverse("web:keys")
    assert full_key not in again.content.decode()
    listing = as_alice.get(reverse("web:keys")).content.decode()
    assert full_key not in listing and key.display in listing
    assert not FULL_KEY.search(listing)


def test_key_create_when_network_invalid_shows_field_error(as_alice):
    response = _create(as_alice, allowed_networks="not-a-network")
    page = response.content.decode()
    assert response.status_code == 400 and "not-a-network" in page
    assert 'class="errorlist' in page and not ApiKey.objects.exists()


def test_key_create_when_no_scope_shows_field_error(as_alice):
    response = _create(as_alice, scopes=[])
    assert response.status_code == 400 and not ApiKey.objects.exists()


# --- revoke and rotate ------------------------------------------------------------


def test_key_revoke_when_confirmed_revokes_and_audits(as_alice, acme_key):
    key, _ = acme_key
    url = reverse("web:key-revoke", args=[key.pk])
    confirm = as_alice.get(url).content.decode()
    assert "csrfmiddlewaretoken" in confirm and key.display in confirm
    key.refresh_from_db()
    assert key.revoked_at is None  # the GET only asks

    response = as_alice.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("web:keys")
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_key.revoke").count() == 1


def test_key_rotate_when_confirmed_shows_successor_once(as_alice, acme_key):
    key, old_full_key = acme_key
    response = as_alice.post(reverse("web:key-rotate", args=[key.pk]))
    assert response["Location"] == reverse("web:key-created")
    page = as_alice.get(reverse("web:key-created")).content.decode()
    new = ApiKey.objects.get(rotated_from=key)
    assert f"bk_{new.prefix}_" in page and old_full_key not in page
    assert key.display in page  # says which key it replaces
    key.refresh_from_db()
    assert key.expires_at is not None  # the overlap
    assert as_alice.get(reverse("web:key-created")).status_code == 302


def test_key_rotate_when_rotated_already_shows_the_refusal(as_alice, acme_key):
    key, _ = acme_key
    as_alice.post(reverse("web:key-rotate", args=[key.pk]))
    as_alice.get(reverse("web:key-created"))
    response = as_alice.post(reverse("web:key-rotate", args=[key.pk]), follow=True)
    # The service's refusal, in the page's language (zh-hans by default).
    assert "该密钥已轮换过，请轮换其替代密钥。" in response.content.decode()
    assert ApiKey.objects.filter(rotated_from=key).count() == 1


# --- in the browser ---------------------------------------------------------------


def test_key_in_browser_when_created_is_shown_once(page, login, live_server, alice):
    UserFactory(username="ursula", role="uploader", member=alice.member)
    login("alice", DEFAULT_PASSWORD)
    assert page.url.rstrip("/").endswith("/keys")  # the member admin's start page

    page.fill("input[name=name]", "loan book nightly upload")
    page.check("input[name=scopes][value=upload]")
    page.fill("input[name=expires_in_days]", "90")
    page.click("button:has-text('Issue the key')")
    page.wait_for_url(re.compile(r"/keys/created/$"))
    full_key = page.input_value("#new-key")
    assert FULL_KEY.fullmatch(full_key)
    screenshot(page, "fixture-key-created")

    page.click("text=back to the keys")
    page.wait_for_url(re.compile(r"/keys/$"))
    assert full_key not in page.content()
    prefix = full_key.split("_")[1]
    assert page.locator(f"tr[data-key-prefix='{prefix}']").count() == 1

    page.go_back()  # never cached: asks again, and the key is gone
    page.wait_for_load_state()
    assert full_key not in page.content()
    page.goto(f"{live_server.url}{reverse('web:key-created')}")
    assert page.url.rstrip("/").endswith("/keys") and full_key not in page.content()
