"""Who may open which page: the same roles as the API (members/permissions.py)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from members.models import Role

MEMBER_STAFF = (Role.MEMBER_ADMIN, Role.UPLOADER, Role.ANALYST)
BUREAU_STAFF = (Role.BUREAU_ADMIN, Role.COMPLIANCE, Role.AUDITOR)


def role_required(*roles: str):
    """Login required, then one of `roles` (superusers pass); else 403."""

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
