"""Who acted, as the audit trail records it: every kind of caller gives one Actor."""

import pytest
from django.contrib.auth.models import AnonymousUser

from bureau.core.actors import Actor, ActorKind, as_actor
from members.principals import KeyPrincipal


def test_none_when_recorded_is_anonymous():
    assert as_actor(None) == Actor(kind=ActorKind.ANONYMOUS, label="")


def test_anonymous_user_when_recorded_is_anonymous():
    assert as_actor(AnonymousUser()) == Actor.anonymous()


def test_job_name_when_recorded_is_the_system():
    assert as_actor("job:detect_misuse") == Actor(
        kind=ActorKind.SYSTEM, label="job:detect_misuse"
    )


def test_actor_when_recorded_is_itself():
    actor = Actor.system("command:create_member")
    assert as_actor(actor) is actor


@pytest.mark.django_db
def test_user_when_recorded_names_login_and_member(alice):
    assert as_actor(alice) == Actor(
        kind=ActorKind.USER,
        label=alice.username,
        user_id=alice.pk,
        member_id=alice.member_id,
    )


@pytest.mark.django_db
def test_key_principal_when_recorded_is_its_key(acme_key):
    key = acme_key[0]
    expected = Actor(
        kind=ActorKind.API_KEY,
        label=f"key:{key.prefix}",
        key_id=key.pk,
        member_id=key.member_id,
    )
    assert as_actor(key) == expected
    assert as_actor(KeyPrincipal(key)) == expected
