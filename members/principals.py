"""Who is calling: a logged-in User, or a member system holding an API key."""

from __future__ import annotations

from typing import TypeAlias

from bureau.core.actors import Actor, ActorLike
from members.models import ApiKey, Member, User


class KeyPrincipal:
    """`request.user` for API-key requests. Not a User: keys have scopes, not roles."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    is_bureau_staff = False
    role = ""
    pk = None
    id = None

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key
        self.member: Member = api_key.member
        self.member_id = api_key.member_id

    def __str__(self) -> str:
        return f"key:{self.api_key.prefix}"

    def get_username(self) -> str:
        return str(self)

    @property
    def actor(self) -> Actor:
        return self.api_key.actor

    def has_perm(self, perm: str, obj=None) -> bool:
        return False


# A caller that is someone: a login or a member system's key (request.user once
# authenticated). Services that rate-limit or check roles per caller take one.
Principal: TypeAlias = "User | KeyPrincipal"


def actor_user_and_key(actor: ActorLike) -> tuple[User | None, ApiKey | None]:
    """The login or the API key behind an actor (a User, a KeyPrincipal or an
    ApiKey); (None, None) for system jobs. Rows record who asked with these."""
    if isinstance(actor, ApiKey):
        return None, actor
    key = getattr(actor, "api_key", None)
    if key is not None:
        return None, key
    return (actor if isinstance(actor, User) else None), None
