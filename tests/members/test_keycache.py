"""API key rows are cached by prefix; every change that matters is seen on the
next request, also when a request raced the change."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members import keycache
from members.models import Member
from members.services import api_key_revoke
from tests.conftest import bearer
from tests.factories import issue_key

pytestmark = pytest.mark.django_db

ME = "/api/v1/members/me/"


def key_queries(context) -> list[str]:
    """Authentication's own queries (the endpoint's usage counters aside)."""
    return [
        q["sql"]
        for q in context.captured_queries
        if '"members_apikey"."prefix" =' in q["sql"] or "last_used_at" in q["sql"]
    ]


def test_key_when_used_again_is_read_from_cache_not_database(api_client, acme):
    _, full_key = issue_key(acme)
    api_client.get(ME, **bearer(full_key))
    with CaptureQueriesContext(connection) as context:
        assert api_client.get(ME, **bearer(full_key)).status_code == 200
    assert key_queries(context) == []  # no look-up, no last_used write


def test_revoked_key_when_cached_is_refused_on_the_very_next_request(api_client, acme):
    key, full_key = issue_key(acme)
    assert api_client.get(ME, **bearer(full_key)).status_code == 200
    api_key_revoke(key=key)
    assert api_client.get(ME, **bearer(full_key)).json()["code"] == "key_revoked"


def test_cache_entry_when_written_by_a_request_that_raced_a_change_is_ignored(acme):
    key, _ = issue_key(acme)
    stale = keycache.get_key(key.prefix)  # read while the member was active
    Member.objects.filter(pk=acme.pk).update(status=Member.Status.SUSPENDED)
    keycache.forget_member(acme.pk)
    # The racing request writes its old row after the change was announced.
    from django.core.cache import cache

    cache.set(f"apikey:row:{key.prefix}", keycache._to_entry(stale, 0), 60)
    assert keycache.get_key(key.prefix).member.status == Member.Status.SUSPENDED


def test_cached_key_when_rebuilt_carries_member_fields(acme):
    key, _ = issue_key(acme)
    keycache.get_key(key.prefix)
    cached = keycache.get_key(key.prefix)
    assert cached.pk == key.pk and cached.secret_hash == key.secret_hash
    assert (cached.member.code, cached.member.name) == (acme.code, acme.name)
    assert cached.member_id == acme.pk


def _revoke_in_another_process(key) -> None:
    """What another web process's api_key_revoke leaves behind: the row changed,
    the generation in Redis bumped; this process's copy untouched."""
    from django.core.cache import cache
    from django.utils import timezone

    from members.models import ApiKey

    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    generation = f"apikey:gen:{key.prefix}"
    cache.set(generation, (cache.get(generation) or 0) + 1, None)


def test_change_made_in_another_process_when_window_passes_is_seen(
    api_client, acme, settings, monkeypatch
):
    settings.BUREAU_API_KEY_LOCAL_SECONDS = 2.0
    key, full_key = issue_key(acme)
    assert api_client.get(ME, **bearer(full_key)).status_code == 200
    _revoke_in_another_process(key)
    # Within the window this process still has its copy (the documented price).
    assert api_client.get(ME, **bearer(full_key)).status_code == 200
    later = keycache._now() + 2.1
    monkeypatch.setattr(keycache, "_now", lambda: later)
    assert api_client.get(ME, **bearer(full_key)).json()["code"] == "key_revoked"


def test_change_made_in_another_process_when_no_local_copies_is_seen_at_once(
    api_client, acme, settings
):
    settings.BUREAU_API_KEY_LOCAL_SECONDS = 0
    key, full_key = issue_key(acme)
    assert api_client.get(ME, **bearer(full_key)).status_code == 200
    _revoke_in_another_process(key)
    assert api_client.get(ME, **bearer(full_key)).json()["code"] == "key_revoked"


def test_local_copy_when_fresh_spares_the_redis_round_trip(
    acme, settings, redis_commands
):
    settings.BUREAU_API_KEY_LOCAL_SECONDS = 2.0
    key, _ = issue_key(acme)
    keycache.get_key(key.prefix)  # reads Redis (and the database), holds a copy
    redis_commands.clear()
    assert keycache.get_key(key.prefix).pk == key.pk
    assert redis_commands == []


def test_entry_read_before_a_change_in_this_process_is_not_held(acme, settings):
    """A thread reads the key, another revokes it meanwhile: the first thread's
    answer is already on its way, but its copy must not outlive the change."""
    settings.BUREAU_API_KEY_LOCAL_SECONDS = 2.0
    key, _ = issue_key(acme)
    keycache.get_key(key.prefix)  # the entry is in Redis now
    keycache.forget_local()
    real_get_many = keycache.cache.get_many

    def racing_get_many(names):
        found = real_get_many(names)
        api_key_revoke(key=key)  # the other thread, after this read
        return found

    with mock.patch.object(keycache.cache, "get_many", racing_get_many):
        assert keycache.get_key(key.prefix).revoked_at is None  # read before
    assert keycache.get_key(key.prefix).revoked_at is not None


def test_local_copy_when_handed_out_twice_shares_no_lists(acme, settings):
    settings.BUREAU_API_KEY_LOCAL_SECONDS = 2.0
    key, _ = issue_key(acme)
    keycache.get_key(key.prefix)
    first, second = keycache.get_key(key.prefix), keycache.get_key(key.prefix)
    first.scopes.append("admin")
    assert "admin" not in second.scopes


def test_key_when_read_from_database_is_not_touch_claimed(acme):
    key, _ = issue_key(acme)
    found = keycache.lookup_key(key.prefix)
    assert (found.key.pk, found.touch_claimed) == (key.pk, False)


def test_key_when_touch_claimed_lately_says_so_from_redis(acme, settings):
    settings.BUREAU_API_KEY_LOCAL_SECONDS = 0  # Redis, not this process's copy
    key, _ = issue_key(acme)
    keycache.lookup_key(key.prefix)  # the entry is in Redis now
    assert keycache.claim_touch(key)
    assert keycache.lookup_key(key.prefix).touch_claimed
