"""Password guessing on the web login: five failures for one username from one
address lock that pair out for an hour, whatever the sixth password is."""

import pytest
from django.conf import settings

from bureau.audit.models import AuditEvent
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def login(client, username="bob", password=DEFAULT_PASSWORD, ip="198.51.100.7"):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_login_page_when_opened_renders_a_form(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_right_password_when_given_logs_in(client, bob):
    response = login(client)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(bob.pk)


def test_sixth_attempt_after_five_failures_is_refused_even_with_right_password(
    client, bob
):
    statuses = [login(client, password="wrong-guess").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure locks out
    response = login(client)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.filter(action="auth.login_failed")
    assert failed.filter(details__username="bob").count() >= 5
    assert "wrong-guess" not in str(list(failed.values_list("details", flat=True)))


def test_lockout_when_from_another_address_does_not_apply(client, bob):
    for _ in range(5):
        login(client, password="wrong-guess")
    assert login(client, ip="203.0.113.50").status_code == 302


def test_success_when_before_the_limit_resets_the_count(client, bob):
    for _ in range(4):
        login(client, password="wrong-guess")
    assert login(client).status_code == 302
    client.logout()
    for _ in range(4):
        login(client, password="wrong-guess")
    assert login(client).status_code == 302


def test_login_settings_when_read_match_the_policy():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 3600
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_RESET_ON_SUCCESS is True
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert len(settings.AUTH_PASSWORD_VALIDATORS) >= 4


def test_failed_login_when_username_is_a_phone_is_audited_redacted(client):
    response = login(client, username="13800138000", password="wrong-guess")
    assert response.status_code == 200  # the form again, with its error
    event = AuditEvent.objects.filter(action="auth.login_failed").latest("sequence")
    assert event.details["username"] == "[redacted]"
