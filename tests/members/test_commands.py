"""Scripting commands: the useful value is the last line of stdout."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from members.keys import parse_key, secret_matches
from members.models import ApiKey, Member, User

pytestmark = pytest.mark.django_db


def run(*args, stdin: str | None = None, monkeypatch=None) -> list[str]:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    # In English: the refusals asserted are (a command speaks the site's language).
    with translation.override("en"):
        call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_create_member_when_new_prints_code_last():
    lines = run(
        "create_member",
        "--code",
        "acme",
        "--name",
        "Acme Lending",
        "--kind",
        "micro_lender",
    )
    assert lines[-1] == "acme"
    assert Member.objects.get(code="acme").kind == "micro_lender"


def test_create_member_when_code_is_identity_shaped_is_refused():
    with pytest.raises(CommandError, match="code: Must not contain identity"):
        run("create_member", "--code", "110105194912310", "--name", "Fifteen digits")
    assert not Member.objects.exists()


def test_create_member_when_code_taken_fails_clearly(acme):
    with pytest.raises(CommandError, match="already exists"):
        run("create_member", "--code", "acme", "--name", "Again")


def test_create_user_when_no_password_given_prints_generated_password_last(acme):
    lines = run(
        "create_user", "--username", "alice", "--member", "acme", "--role", "analyst"
    )
    user = User.objects.get(username="alice")
    assert user.check_password(lines[-1])
    assert user.member == acme and user.role == "analyst"


def test_create_user_when_password_on_stdin_uses_it(acme, monkeypatch):
    lines = run(
        "create_user",
        "--username",
        "bob",
        "--member",
        "acme",
        "--role",
        "uploader",
        "--password-stdin",
        stdin="a-long-passphrase-42\n",
        monkeypatch=monkeypatch,
    )
    assert lines[-1] == "bob"
    assert User.objects.get(username="bob").check_password("a-long-passphrase-42")


def test_create_user_when_bureau_role_given_member_is_refused(acme):
    with pytest.raises(CommandError, match="bureau staff"):
        run("create_user", "--username", "eve", "--member", "acme", "--role", "auditor")


def test_create_user_when_username_is_a_phone_is_refused(acme):
    with pytest.raises(CommandError, match="username: Must not contain identity"):
        run(
            "create_user", "--username", "13900139000", "--member", "acme",
            "--role", "analyst",
        )  # fmt: skip
    assert not User.objects.filter(username="13900139000").exists()


def test_create_user_when_weak_password_is_refused(acme, monkeypatch):
    with pytest.raises(CommandError, match="password"):
        run(
            "create_user",
            "--username",
            "weak",
            "--member",
            "acme",
            "--role",
            "analyst",
            "--password-stdin",
            stdin="123\n",
            monkeypatch=monkeypatch,
        )


def test_create_api_key_when_valid_prints_working_key_last(acme):
    lines = run(
        "create_api_key",
        "--member",
        "acme",
        "--scopes",
        "upload,query",
        "--name",
        "ci",
        "--expires-days",
        "90",
    )
    parsed = parse_key(lines[-1])
    key = ApiKey.objects.get(prefix=parsed.prefix)
    assert secret_matches(parsed.secret, key.secret_hash)
    assert sorted(key.scopes) == ["query", "upload"] and key.name == "ci"
    assert key.expires_at is not None


def test_create_api_key_when_expiry_beyond_the_calendar_fails_clearly(acme):
    with pytest.raises(CommandError, match="too large"):
        run(
            "create_api_key", "--member", "acme", "--scopes", "query",
            "--expires-days", "99999999",
        )  # fmt: skip


@pytest.mark.parametrize("days", ["0", "-3"])
def test_create_api_key_when_expiry_not_in_future_fails(acme, days):
    with pytest.raises(CommandError, match="expires_at: Must be in the future"):
        run(
            "create_api_key", "--member", "acme", "--scopes", "query",
            "--expires-days", days,
        )  # fmt: skip
    assert not ApiKey.objects.exists()


def test_create_api_key_when_scope_unknown_fails(acme):
    with pytest.raises(CommandError, match="scopes"):
        run("create_api_key", "--member", "acme", "--scopes", "everything")


def test_revoke_api_key_when_prefix_given_revokes_and_prints_prefix(acme):
    full_key = run("create_api_key", "--member", "acme", "--scopes", "query")[-1]
    prefix = parse_key(full_key).prefix
    assert run("revoke_api_key", prefix)[-1] == prefix
    assert ApiKey.objects.get(prefix=prefix).revoked_at is not None


def test_revoke_api_key_when_unknown_fails():
    with pytest.raises(CommandError, match="No API key"):
        run("revoke_api_key", "deadbeef")
