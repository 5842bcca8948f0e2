"""Logged-in users of a suspended member are logged out on their next request."""

from __future__ import annotations

import logging

from django.contrib.auth import logout

from members.models import Member

logger = logging.getLogger("bureau.auth")


class SuspendedMemberLogoutMiddleware:
    """After AuthenticationMiddleware: a session user whose member is suspended
    loses the session at once, so the API answers 401 and pages send them to the
    login page, where `members.backends.MemberModelBackend` refuses them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        # A user row is loaded only for requests that carry a session; API key
        # requests have none.
        if user.is_authenticated and getattr(user, "member_id", None) is not None:
            suspended = Member.objects.filter(
                pk=user.member_id, status=Member.Status.SUSPENDED
            ).exists()
            if suspended:
                logger.info(
                    "session ended: member suspended",
                    extra={"kv": {"user": user.pk, "member": user.member_id}},
                )
                logout(request)
        return self.get_response(request)
