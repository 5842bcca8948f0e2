"""Suspending a member: compliance decides, the member's keys and sessions stop
at once, and every change is audited."""

import pytest
from django.core.cache import cache

from bureau.audit.models import AuditEvent
from members.models import Member
from members.services import member_reinstate, member_suspend
from tests.conftest import bearer
from tests.factories import DEFAULT_PASSWORD, bureau_user

pytestmark = pytest.mark.django_db

ME = "/api/v1/members/me/"
MEMBERS = "/api/v1/members/"
REASON = "Queries without consent found in the March review."


def suspend_url(code: str) -> str:
    return f"{MEMBERS}{code}/suspend/"


def reinstate_url(code: str) -> str:
    return f"{MEMBERS}{code}/reinstate/"


@pytest.fixture
def carol(db):
    """Carol works in compliance at the bureau."""
    return bureau_user("carol", "compliance")


@pytest.fixture
def dave(db):
    """Dave is a bureau auditor: reads everything, changes nothing."""
    return bureau_user("dave", "auditor")


def test_compliance_when_suspending_member_gets_200_and_change_is_audited(
    api_client, carol, acme
):
    api_client.force_login(carol)
    response = api_client.post(suspend_url("acme"), {"reason": REASON}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "suspended"
    assert response.json()["status_reason"] == REASON
    acme.refresh_from_db()
    assert acme.status == Member.Status.SUSPENDED
    event = AuditEvent.objects.get(action="member.suspend")
    assert event.actor_user_id == carol.pk and event.member_id == acme.pk
    assert event.details == {"code": "acme", "reason": REASON}


def test_suspend_when_member_already_suspended_changes_nothing_and_audits_once(
    carol, acme
):
    member_suspend(member=acme, reason=REASON, actor=carol)
    member_suspend(member=acme, reason="Another reason", actor=carol)
    acme.refresh_from_db()
    assert acme.status_reason == REASON
    assert AuditEvent.objects.filter(action="member.suspend").count() == 1


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_suspend_when_reason_missing_or_too_long_returns_400(
    api_client, carol, acme, reason
):
    api_client.force_login(carol)
    response = api_client.post(suspend_url("acme"), {"reason": reason}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    acme.refresh_from_db()
    assert acme.status == Member.Status.ACTIVE


@pytest.mark.parametrize(
    ("reason", "kept"),
    [
        (
            "Borrower 11010519491231002X complained.",
            "Borrower 110105********002X complained.",
        ),
        ("Call 13812345678.", "Call 138****5678."),
        ("0" * 500, "000000" + "*" * 490 + "0000"),  # schema-valid: accepted
    ],
)
def test_suspend_when_reason_names_an_identity_number_keeps_it_masked(
    api_client, carol, acme, reason, kept
):
    api_client.force_login(carol)
    response = api_client.post(suspend_url("acme"), {"reason": reason}, format="json")
    assert response.status_code == 200, response.content
    acme.refresh_from_db()
    assert (acme.status, acme.status_reason) == (Member.Status.SUSPENDED, kept)
    event = AuditEvent.objects.get(action="member.suspend")
    assert event.details["reason"] == kept


def test_suspend_when_member_unknown_returns_404(api_client, carol):
    api_client.force_login(carol)
    response = api_client.post(suspend_url("nobody"), {"reason": REASON}, format="json")
    assert response.status_code == 404


def test_reinstate_when_suspended_reactivates_and_is_audited(api_client, carol, acme):
    member_suspend(member=acme, reason=REASON, actor=carol)
    api_client.force_login(carol)
    response = api_client.post(
        reinstate_url("acme"), {"reason": "Remediation verified."}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert AuditEvent.objects.filter(action="member.reinstate").count() == 1


@pytest.mark.parametrize("role", ["compliance", "bureau_admin"])
def test_suspenders_when_suspending_are_allowed(api_client, acme, role):
    api_client.force_login(bureau_user(f"staff-{role}", role))
    response = api_client.post(suspend_url("acme"), {"reason": REASON}, format="json")
    assert response.status_code == 200


def test_auditor_when_suspending_gets_403(api_client, dave, acme):
    api_client.force_login(dave)
    for url in (suspend_url("acme"), reinstate_url("acme")):
        response = api_client.post(url, {"reason": REASON}, format="json")
        assert response.status_code == 403
    acme.refresh_from_db()
    assert acme.status == Member.Status.ACTIVE


def test_member_admin_when_suspending_a_member_gets_403(api_client, alice, charlie):
    api_client.force_login(charlie)  # a stranger's admin, trying Acme
    response = api_client.post(suspend_url("acme"), {"reason": REASON}, format="json")
    assert response.status_code == 403
    api_client.force_login(alice)  # Acme's own admin cannot lift or set it either
    response = api_client.post(suspend_url("acme"), {"reason": REASON}, format="json")
    assert response.status_code == 403


def test_api_key_when_suspending_gets_403(api_client, acme, acme_key):
    response = api_client.post(
        suspend_url("acme"), {"reason": REASON}, format="json", **bearer(acme_key[1])
    )
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["compliance", "bureau_admin", "auditor"])
def test_bureau_staff_when_listing_members_see_all_with_status(
    api_client, acme, globex, role
):
    Member.objects.filter(pk=globex.pk).update(status="suspended", status_reason="x")
    api_client.force_login(bureau_user(f"staff-{role}", role))
    body = api_client.get(MEMBERS).json()
    assert [m["code"] for m in body["results"]] == ["acme", "globex"]
    suspended = api_client.get(MEMBERS, {"status": "suspended"}).json()["results"]
    assert [(m["code"], m["status_reason"]) for m in suspended] == [("globex", "x")]


def test_members_list_when_status_filter_invalid_returns_400(api_client, carol):
    api_client.force_login(carol)
    assert api_client.get(MEMBERS, {"status": "gone"}).status_code == 400


def test_member_staff_and_keys_when_listing_members_get_403(
    api_client, alice, acme_key
):
    api_client.force_login(alice)
    assert api_client.get(MEMBERS).status_code == 403
    api_client.logout()
    assert api_client.get(MEMBERS, **bearer(acme_key[1])).status_code == 403


def test_suspended_member_key_when_cached_is_refused_on_the_very_next_request(
    api_client, carol, acme, acme_key
):
    key, full_key = acme_key
    assert api_client.get(ME, **bearer(full_key)).status_code == 200
    assert cache.get(f"apikey:row:{key.prefix}") is not None  # the row is cached
    member_suspend(member=acme, reason=REASON, actor=carol)
    response = api_client.get(ME, **bearer(full_key))
    assert response.status_code == 403
    assert response.json()["code"] == "member_suspended"


def test_reinstated_member_key_when_cached_works_on_the_very_next_request(
    api_client, carol, acme, acme_key
):
    _, full_key = acme_key
    member_suspend(member=acme, reason=REASON, actor=carol)
    assert api_client.get(ME, **bearer(full_key)).status_code == 403  # cached now
    member_reinstate(member=acme, reason="Cleared.", actor=carol)
    assert api_client.get(ME, **bearer(full_key)).status_code == 200


def test_suspended_member_user_with_a_session_is_logged_out(
    api_client, carol, bob, acme
):
    api_client.force_login(bob)
    assert api_client.get(ME).status_code == 200
    member_suspend(member=acme, reason=REASON, actor=carol)
    response = api_client.get(ME)
    assert response.status_code == 401
    assert "_auth_user_id" not in api_client.session
    assert AuditEvent.objects.filter(action="auth.logout", actor_user_id=bob.pk)
    # The session is gone for good: reinstating does not bring it back.
    member_reinstate(member=acme, reason="Cleared.", actor=carol)
    assert api_client.get(ME).status_code == 401


def test_suspended_member_user_when_on_a_web_page_is_sent_to_login(
    client, carol, bob, acme
):
    client.force_login(bob)
    member_suspend(member=acme, reason=REASON, actor=carol)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "login" in response["Location"]
    assert "_auth_user_id" not in client.session


def test_suspended_member_user_when_logging_in_is_refused_and_audited(
    client, carol, bob, acme
):
    member_suspend(member=acme, reason=REASON, actor=carol)
    response = client.post(
        "/accounts/login/", {"username": "bob", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.filter(action="auth.login_failed").latest("sequence")
    assert event.details["username"] == "bob"


def test_bureau_staff_session_when_members_suspended_is_untouched(
    api_client, carol, acme
):
    member_suspend(member=acme, reason=REASON, actor=carol)
    api_client.force_login(carol)
    assert api_client.get(MEMBERS).status_code == 200
