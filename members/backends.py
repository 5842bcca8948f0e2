"""Password logins: Django's ModelBackend, minus users of a suspended member."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from members.models import Member


class MemberModelBackend(ModelBackend):
    """Refuses the login only; sessions already open are ended by
    `members.middleware.SuspendedMemberLogoutMiddleware` (which must still see the
    user, so `get_user` is left as it is)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username, password, **kwargs)
        if user is None or user.member_id is None:
            return user
        active = Member.objects.filter(
            pk=user.member_id, status=Member.Status.ACTIVE
        ).exists()
        return user if active else None
