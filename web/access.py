"""Who may open which page: the same role groups as the API (bureau/core/roles.py)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from members.models import Member


def member_of(request) -> Member:
    """The member the signed-in user works for; bureau staff (and superusers)
    have none, and these member pages refuse them."""
    member = request.user.member
    if member is None:
        raise PermissionDenied
    return member


def role_required(*roles: str):
    """Login required, then one of `roles` (superusers pass); else 403.

    `roles` are names from bureau/core/roles.py, usually a group unpacked:
    `@role_required(*FURNISHER_ROLES)`.
    """

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not (user.is_superuser or user.role in roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
