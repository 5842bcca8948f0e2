"""Who did something, as the audit trail records it.

`Actor` is a plain value: the kind of actor, the ids audit stores and a label a
reader recognises. It lives here, below audit and members, so the audit trail can
describe any actor without knowing the models behind it (members' `User`,
`ApiKey` and `KeyPrincipal` each give theirs as `.actor`).

Services take an `ActorLike`: whatever is at hand where the work is asked for (a
request's user or key principal, a system job's name, None for nobody), turned
into an `Actor` by `as_actor` only where it is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class ActorKind(StrEnum):
    """The values of `AuditEvent.actor_type`."""

    USER = "user"
    API_KEY = "api_key"
    SYSTEM = "system"
    ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    # "alice", "key:ab12cd34", "job:detect_misuse"; "" for anonymous.
    label: str = ""
    user_id: int | None = None
    key_id: int | None = None
    # The member the actor acts for; None for bureau staff, jobs and anonymous.
    member_id: int | None = None

    @classmethod
    def system(cls, name: str) -> Actor:
        """A job or command, named "job:…", "task:…" or "command:…"."""
        return cls(kind=ActorKind.SYSTEM, label=name)

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(kind=ActorKind.ANONYMOUS)


class HasActor(Protocol):
    """A principal that says who it is: members' User, KeyPrincipal and ApiKey."""

    @property
    def actor(self) -> Actor: ...


# What services take as `actor`: an Actor, a principal that gives one, the name of
# a system job, or None or request.user before login for anonymous. A string: the
# alias is evaluated at run time, before Django's auth models may be imported.
ActorLike: TypeAlias = "Actor | HasActor | AnonymousUser | str | None"


def as_actor(value: ActorLike) -> Actor:
    if value is None:
        return Actor.anonymous()
    if isinstance(value, str):
        return Actor.system(value)
    if isinstance(value, Actor):
        return value
    # Anything else without an actor (Django's AnonymousUser, as request.user
    # before login) is anonymous, as None is.
    actor = getattr(value, "actor", None)
    return actor if isinstance(actor, Actor) else Actor.anonymous()
