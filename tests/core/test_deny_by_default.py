"""Deny by default: every `/api/v1/` view states who may call it.

The global DRF default (IsAuthenticated) would let any logged-in user or any key of
any scope in. So each view must name its own `permission_classes`; with RoleOrScope
it must name `allowed_roles` and either the key scope it needs (`required_scope`) or
why keys are refused (`no_key_reason`).
"""

from __future__ import annotations

from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from members.models import ApiKey, Role
from members.permissions import ANY_SCOPE, RoleOrScope
from tests.core.routes import api_routes

KNOWN_SCOPES = {ANY_SCOPE, *ApiKey.Scope.values}


def _declares_own(view_class: type, attribute: str) -> bool:
    """Declared by the project's code, not inherited from DRF's defaults."""
    return any(
        attribute in vars(klass)
        for klass in view_class.__mro__
        if not klass.__module__.startswith("rest_framework")
    )


def access_problems(view_class: type | None) -> list[str]:
    if view_class is None or not issubclass(view_class, APIView):
        return ["not a DRF class-based view (its access cannot be checked)"]
    if not _declares_own(view_class, "permission_classes"):
        return ["relies on the global DEFAULT_PERMISSION_CLASSES"]
    classes = list(view_class.permission_classes)
    if not classes:
        return ["permission_classes is empty"]
    if AllowAny in classes:
        return ["permission_classes contains AllowAny"]
    if RoleOrScope not in classes:
        return []
    problems = []
    roles = getattr(view_class, "allowed_roles", None)
    if roles is None:
        problems.append("RoleOrScope without allowed_roles")
    elif not set(roles) <= set(Role.values):
        problems.append(f"allowed_roles names unknown roles: {sorted(roles)}")
    scope = getattr(view_class, "required_scope", None)
    reason = getattr(view_class, "no_key_reason", "")
    if scope is None and not reason:
        problems.append(
            "neither required_scope nor no_key_reason (name the key scope that may"
            " call it, or say in no_key_reason why keys may not)"
        )
    elif scope is not None and reason:
        problems.append("both required_scope and no_key_reason")
    elif scope is not None and scope not in KNOWN_SCOPES:
        problems.append(f"required_scope {scope!r} is not a key scope")
    return problems


def test_every_api_view_when_routed_declares_who_may_call_it():
    routes = api_routes()
    assert len(routes) >= 10, "the resolver walk found too few /api/v1/ routes"
    offenders = [
        f"{route.template} ({route.name}): {problem}"
        for route in routes
        for problem in access_problems(route.view_class)
    ]
    assert not offenders, "Views without explicit access rules:\n" + "\n".join(
        offenders
    )


def test_view_when_relying_on_global_default_is_reported():
    class Lax(APIView):
        def get(self, request): ...

    assert access_problems(Lax) == ["relies on the global DEFAULT_PERMISSION_CLASSES"]


def test_role_or_scope_view_when_silent_about_keys_is_reported():
    class Vague(APIView):
        permission_classes = [RoleOrScope]
        allowed_roles = (Role.ANALYST,)

    (problem,) = access_problems(Vague)
    assert problem.startswith("neither required_scope nor no_key_reason")


def test_role_or_scope_view_when_missing_roles_is_reported():
    class NoRoles(APIView):
        permission_classes = [RoleOrScope]
        required_scope = "query"

    assert access_problems(NoRoles) == ["RoleOrScope without allowed_roles"]
