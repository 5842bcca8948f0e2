"""Who may call an API endpoint, declared on the view per HTTP method.

Deny by default. A view using `RoleOrScope` states, as class attributes,
- `roles`: for each method, the roles (bureau/core/roles.py) of the logged-in
  users who may call it, e.g. `{"GET": BATCH_READERS, "POST": FURNISHER_ROLES}`;
- `scopes`: for each method API keys may call, the scope a key needs
  (`ANY_SCOPE` for any key of a member); a method without one refuses keys, and
  `no_key_reason` says why (tests/core/test_deny_by_default.py holds views to it).
A caller matching neither is refused. The declarations are read here and never
changed at request time, so what a view allows is what its class says.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from django.utils.translation import gettext as _
from rest_framework.permissions import BasePermission

from bureau.core.errors import ApiForbidden

ANY_SCOPE = "*"  # the scope of endpoints every key of a member may call

# HEAD and OPTIONS ask about an endpoint rather than act on it.
_ASKING = frozenset({"HEAD", "OPTIONS"})


def declared_roles(view) -> Mapping[str, Collection[str]]:
    return getattr(view, "roles", None) or {}


def declared_scopes(view) -> Mapping[str, str]:
    return getattr(view, "scopes", None) or {}


def implements(view, method: str) -> bool:
    """Whether the view has a handler for `method` (else DRF answers 405)."""
    name = method.lower()
    return name in view.http_method_names and hasattr(view, name)


def rule_method(view, method: str) -> str | None:
    """The method whose declaration decides a `method` request, or None (refuse).

    A declared method decides itself. HEAD, OPTIONS and methods the view lacks
    (answered 405 once let through) follow GET, or the view's first declared
    method when it has no GET: whoever may use the endpoint learns what it
    offers, and nobody else does. A method the view implements but does not
    declare is refused to everyone.
    """
    declared = [*declared_roles(view), *declared_scopes(view)]
    if method in declared:
        return method
    if method in _ASKING or not implements(view, method):
        if "GET" in declared:
            return "GET"
        return declared[0] if declared else None
    return None


class RoleOrScope(BasePermission):
    """API keys need the method's scope; users need one of the method's roles.

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
        method = rule_method(view, request.method)
        # An API-key principal (members.principals.KeyPrincipal) carries its key;
        # a User never has one. Core names no members class, so it asks.
        api_key = getattr(user, "api_key", None)
        if api_key is not None:
            scope = declared_scopes(view).get(method) if method else None
            if scope is None:
                raise ApiForbidden(_("API keys cannot use this endpoint."))
            if scope != ANY_SCOPE and scope not in api_key.scopes:
                raise ApiForbidden(
                    _("This key lacks the '%(scope)s' scope.") % {"scope": scope},
                    code="scope_missing",
                )
            return True
        roles = declared_roles(view).get(method, ()) if method else ()
        if user.is_superuser or user.role in roles:
            return True
        raise ApiForbidden(_("Your role does not allow this action."))
