"""The Django admin for auditors: every model admin readable, nothing changeable.

Aude is an auditor with a staff login; Alice's key is the object she looks at.
"""

import pytest
from django.contrib import admin
from django.urls import reverse

from bureau.audit.models import AuditEvent
from members.admin_access import AuditorReadOnlyAdmin
from members.models import ApiKey, Member
from tests.factories import UserFactory, bureau_user, issue_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def aude(db):
    auditor = bureau_user("aude", "auditor")
    auditor.is_staff = True
    auditor.save()
    return auditor


@pytest.fixture
def key(acme) -> ApiKey:
    return issue_key(acme, name="prod")[0]


@pytest.fixture
def admin_client(client, aude):
    client.force_login(aude)
    return client


def url(model, view: str, *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def test_every_registered_admin_when_built_is_read_only_for_auditors():
    assert admin.site._registry
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, AuditorReadOnlyAdmin), model


def test_changelist_when_auditor_opens_any_model_returns_200(admin_client, key):
    for model in admin.site._registry:
        response = admin_client.get(url(model, "changelist"))
        assert response.status_code == 200, model


def test_index_when_auditor_opens_it_lists_the_apps_without_add_links(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert response.context["app_list"]
    for app in response.context["app_list"]:
        for model in app["models"]:
            assert model["perms"]["view"] and not model["perms"]["add"], model


def test_change_view_when_auditor_opens_it_shows_a_read_only_page(admin_client, key):
    response = admin_client.get(url(ApiKey, "change", key.pk))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert b'name="_save"' not in response.content


def test_change_view_when_auditor_posts_returns_403_and_changes_nothing(
    admin_client, key
):
    response = admin_client.post(
        url(ApiKey, "change", key.pk), {"name": "renamed", "_save": "Save"}
    )
    assert response.status_code == 403
    key.refresh_from_db()
    assert key.name == "prod"


def test_user_change_when_auditor_posts_returns_403(admin_client, alice):
    response = admin_client.post(
        url(type(alice), "change", alice.pk), {"username": "mallory"}
    )
    assert response.status_code == 403
    alice.refresh_from_db()
    assert alice.username == "alice"


def test_add_and_delete_views_when_auditor_asks_return_403(admin_client, alice):
    model = type(alice)
    assert admin_client.get(url(model, "add")).status_code == 403
    assert admin_client.get(url(model, "delete", alice.pk)).status_code == 403
    deleting = admin_client.post(url(model, "delete", alice.pk), {"post": "yes"})
    assert deleting.status_code == 403
    assert model.objects.filter(pk=alice.pk).exists()


def test_changelist_action_when_auditor_posts_it_returns_403_and_revokes_nothing(
    admin_client, key
):
    response = admin_client.post(
        url(ApiKey, "changelist"),
        {"action": "revoke_keys", "_selected_action": [key.pk], "index": 0},
    )
    assert response.status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None


def test_changelist_when_auditor_opens_it_offers_no_actions(admin_client, key):
    response = admin_client.get(url(ApiKey, "changelist"))
    assert response.context["action_form"] is None


def test_admin_read_when_by_auditor_is_audited(admin_client, key):
    admin_client.get(url(ApiKey, "change", key.pk))
    event = AuditEvent.objects.filter(action="admin.view").latest("sequence")
    assert (event.actor_label, event.object_type, event.object_id) == (
        "aude",
        "members.apikey",
        str(key.pk),
    )


def test_logout_when_auditor_posts_it_is_allowed(admin_client):
    response = admin_client.post(reverse("admin:logout"))
    assert response.status_code in (200, 302)  # LOGOUT_REDIRECT_URL may apply
    assert admin_client.get(reverse("admin:index")).status_code == 302


def test_superuser_when_not_an_auditor_keeps_full_admin(client, alice):
    root = UserFactory(
        username="root", role="", member=None, is_staff=True, is_superuser=True
    )
    client.force_login(root)
    assert client.get(url(type(alice), "add")).status_code == 200
    response = client.post(url(type(alice), "change", alice.pk), {})
    assert response.status_code == 200  # the form re-rendered with errors, not 403


def test_auditor_without_staff_flag_when_opening_admin_is_sent_to_login(client):
    client.force_login(bureau_user("audrey", "auditor"))
    assert client.get(reverse("admin:index")).status_code == 302


def test_superuser_when_adding_key_named_with_a_phone_gets_form_error(client, acme):
    root = UserFactory(
        username="root", role="", member=None, is_staff=True, is_superuser=True
    )
    client.force_login(root)
    response = client.post(
        url(ApiKey, "add"),
        {"member": acme.pk, "name": "ops 13800138000", "scopes": "query"},
        HTTP_ACCEPT_LANGUAGE="en",  # the messages asserted are the English ones
    )
    assert response.status_code == 200  # the form again, not a 500
    assert "Must not contain identity numbers or phones." in response.content.decode()
    assert not ApiKey.objects.exists()


@pytest.fixture
def root_client(client):
    root = UserFactory(
        username="root", role="", member=None, is_staff=True, is_superuser=True
    )
    client.force_login(root)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the messages asserted
    return client


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"expires_at_0": "2001-01-01", "expires_at_1": "00:00:00"}, "future"),
        ({"allowed_networks": "not-a-network"}, "is not an IP network"),
    ],
)
def test_key_add_when_expiry_past_or_network_invalid_gets_form_error(
    root_client, acme, fields, error
):
    form = {"member": acme.pk, "name": "ops", "scopes": "query", **fields}
    response = root_client.post(url(ApiKey, "add"), form)
    assert response.status_code == 200  # the form again, not a 500
    assert error in response.content.decode()
    assert not ApiKey.objects.exists()


def test_member_add_when_code_is_identity_shaped_gets_form_error(root_client):
    form = {"code": "110105194912310", "name": "Digits", "kind": "other"}
    response = root_client.post(url(Member, "add"), form)
    assert response.status_code == 200
    assert "Must not contain identity numbers or phones." in response.content.decode()
    assert not Member.objects.filter(code="110105194912310").exists()


def test_user_add_or_rename_when_username_is_a_phone_gets_form_error(
    root_client, alice
):
    User = type(alice)
    add = {"username": "13800138000", "usable_password": "false"}
    response = root_client.post(url(User, "add"), add)
    assert response.status_code == 200
    assert "Must not contain identity numbers or phones." in response.content.decode()
    assert not User.objects.filter(username="13800138000").exists()
    form = root_client.get(url(User, "change", alice.pk)).context["adminform"].form
    change = {**form.initial, "username": "13800138000", "role": alice.role}
    change = {k: v for k, v in change.items() if v is not None and k != "password"}
    change["member"] = alice.member_id
    change["groups"] = change["user_permissions"] = []
    response = root_client.post(url(User, "change", alice.pk), change)
    assert "Must not contain identity numbers or phones." in response.content.decode()
    alice.refresh_from_db()
    assert alice.username == "alice"
