"""Who may call what. Deny by default: a view states `required_scope` (API keys) and
`allowed_roles` (logged-in users); a caller matching neither is refused."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.permissions import BasePermission

from bureau.core.errors import ApiForbidden
from members.models import Member
from members.principals import KeyPrincipal


def actor_member(request) -> Member | None:
    """The member on whose behalf the caller acts (None for bureau staff)."""
    return getattr(request.user, "member", None)


ANY_SCOPE = "*"  # `required_scope` for endpoints every key of a member may call


class RoleOrScope(BasePermission):
    """API keys need the view's scope; users need one of the view's roles.

    A member that is suspended is refused whatever the credential.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False  # DRF answers 401 not_authenticated
        member = getattr(user, "member", None)
        if member is not None and not member.is_active:
            raise ApiForbidden(
                _("Your member platform is suspended."), code="member_suspended"
            )
        if isinstance(user, KeyPrincipal):
            scope = getattr(view, "required_scope", None)
            if scope is None:
                raise ApiForbidden(_("API keys cannot use this endpoint."))
            if scope != ANY_SCOPE and scope not in user.api_key.scopes:
                raise ApiForbidden(
                    _("This key lacks the '%(scope)s' scope.") % {"scope": scope},
                    code="scope_missing",
                )
            return True
        roles = getattr(view, "allowed_roles", ())
        if user.is_superuser or user.role in roles:
            return True
        raise ApiForbidden(_("Your role does not allow this action."))
