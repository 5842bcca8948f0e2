"""On whose behalf an API caller acts. Who may call what is declared on each view
and checked by bureau.core.permissions.RoleOrScope."""

from __future__ import annotations

from members.models import Member


def actor_member(request) -> Member | None:
    """The member on whose behalf the caller acts (None for bureau staff)."""
    return getattr(request.user, "member", None)
