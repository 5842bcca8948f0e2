"""Suspending and reinstating from the Django admin asks for a reason and goes
through the same audited service."""

import pytest

from bureau.audit.models import AuditEvent
from members.models import Member, User

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/members/member/"


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", "root@example.com", "x-unused-9")


def test_admin_suspend_action_when_no_reason_given_asks_for_one(client, root, acme):
    client.force_login(root)
    response = client.post(
        CHANGELIST, {"action": "suspend_members", "_selected_action": [acme.pk]}
    )
    assert response.status_code == 200
    assert b'name="reason"' in response.content
    acme.refresh_from_db()
    assert acme.status == Member.Status.ACTIVE


def test_admin_suspend_then_reinstate_when_reason_given_is_audited(client, root, acme):
    client.force_login(root)
    response = client.post(
        CHANGELIST,
        {
            "action": "suspend_members",
            "_selected_action": [acme.pk],
            "apply": "yes",
            "reason": "Consent audit failed.",
        },
    )
    assert response.status_code == 302
    acme.refresh_from_db()
    assert (acme.status, acme.status_reason) == ("suspended", "Consent audit failed.")
    client.post(
        CHANGELIST,
        {
            "action": "reinstate_members",
            "_selected_action": [acme.pk],
            "apply": "yes",
            "reason": "Fixed.",
        },
    )
    acme.refresh_from_db()
    assert acme.status == Member.Status.ACTIVE
    actions = list(
        AuditEvent.objects.filter(actor_user_id=root.pk)
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert "member.suspend" in actions and "member.reinstate" in actions


def test_admin_member_form_when_editing_cannot_change_status(client, root, acme):
    client.force_login(root)
    response = client.get(f"{CHANGELIST}{acme.pk}/change/")
    assert response.status_code == 200
    assert b'name="status"' not in response.content


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", ["暂停所选会员", "恢复所选会员"]),
        ("en", ["Suspend selected members", "Reinstate selected members"]),
    ],
)
def test_admin_member_actions_when_listed_speak_the_language(
    client, root, acme, language, words
):
    client.force_login(root)
    page = client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert all(word in page for word in words)
    asked = client.post(
        CHANGELIST,
        {"action": "suspend_members", "_selected_action": [acme.pk]},
        HTTP_ACCEPT_LANGUAGE=language,
    ).content.decode()
    assert words[0].replace("所选", "").replace(" selected", "") in asked  # title
