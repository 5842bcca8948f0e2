"""Deny by default: every `/api/v1/` view states who may call it.

The global DRF default (IsAuthenticated) would let any logged-in user or any key of
any scope in. So each view must name its own `permission_classes`; with RoleOrScope
it declares, for each HTTP method it implements, the roles that may call it
(`roles`) and either the key scope it needs (`scopes`) or, for methods keys may not
call, why (`no_key_reason`). Views declare; they never change the declarations at
request time (no `get_permissions` override, no `allowed_roles` left over).
"""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from bureau.core import roles as role_groups
from bureau.core.permissions import ANY_SCOPE, RoleOrScope
from bureau.core.roles import MEMBER_ADMINS, SCREENERS, Role
from members.models import ApiKey
from tests.core.routes import api_routes

KNOWN_SCOPES = {ANY_SCOPE, *ApiKey.Scope.values}
# Role tuples come from one place: every declaration names a group of it.
NAMED_GROUPS = {
    id(value): name
    for name, value in vars(role_groups).items()
    if name.isupper() and isinstance(value, frozenset)
}
# What RoleOrScope read before roles were declared per method: a view (say, from a
# branch written before) that still sets them would be silently unprotected.
RETIRED = ("allowed_roles", "required_scope")


def _declares_own(view_class: type, attribute: str) -> bool:
    """Declared by the project's code, not inherited from DRF's defaults."""
    return any(
        attribute in vars(klass)
        for klass in view_class.__mro__
        if not klass.__module__.startswith("rest_framework")
    )


def _implemented(view_class: type) -> list[str]:
    """The methods with a handler (HEAD and OPTIONS follow GET, as RoleOrScope says)."""
    return [
        name.upper()
        for name in view_class.http_method_names
        if name not in ("head", "options") and hasattr(view_class, name)
    ]


def _declaration_problems(view_class: type) -> list[str]:
    roles = getattr(view_class, "roles", None)
    scopes = getattr(view_class, "scopes", None) or {}
    if not roles:
        return ["RoleOrScope without roles (declare them per HTTP method)"]
    if not isinstance(roles, Mapping) or not isinstance(scopes, Mapping):
        return ["roles and scopes must map HTTP methods to roles / a scope"]
    problems = []
    methods = _implemented(view_class)
    problems.extend(
        f"{method} is implemented but not in roles" for method in methods
        if method not in roles
    )  # fmt: skip
    problems.extend(
        f"{name} declares {method}, which the view does not implement"
        for name, declared in (("roles", roles), ("scopes", scopes))
        for method in declared
        if method not in methods
    )
    for method, names in roles.items():
        if id(names) not in NAMED_GROUPS:
            problems.append(
                f"roles[{method!r}] is not a group of bureau/core/roles.py: {names!r}"
            )
        elif not set(names) <= set(Role.values):
            problems.append(f"roles[{method!r}] names unknown roles: {names!r}")
    problems.extend(
        f"scopes[{method!r}] = {scope!r} is not a key scope"
        for method, scope in scopes.items()
        if scope not in KNOWN_SCOPES
    )
    keyless = [method for method in methods if method not in scopes]
    reason = getattr(view_class, "no_key_reason", "")
    if keyless and not reason:
        problems.append(
            f"no scope for {', '.join(keyless)} and no no_key_reason (name the key"
            " scope that may call it, or say in no_key_reason why keys may not)"
        )
    elif reason and not keyless:
        problems.append("no_key_reason, yet every method has a scope")
    return problems


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
    problems = [
        f"sets {name}, which nothing reads any more (declare roles and scopes)"
        for name in RETIRED
        if hasattr(view_class, name)
    ]
    if _declares_own(view_class, "get_permissions"):
        problems.append("overrides get_permissions (declare roles per method)")
    if RoleOrScope in classes:
        problems.extend(_declaration_problems(view_class))
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
        roles = {"GET": SCREENERS}

        def get(self, request): ...

    (problem,) = access_problems(Vague)
    assert problem.startswith("no scope for GET and no no_key_reason")


def test_role_or_scope_view_when_missing_roles_is_reported():
    class NoRoles(APIView):
        permission_classes = [RoleOrScope]
        scopes = {"GET": "query"}

        def get(self, request): ...

    assert access_problems(NoRoles) == [
        "RoleOrScope without roles (declare them per HTTP method)"
    ]


def test_role_or_scope_view_when_a_method_is_undeclared_is_reported():
    class HalfDeclared(APIView):
        permission_classes = [RoleOrScope]
        roles = {"GET": SCREENERS}
        scopes = {"GET": "query", "DELETE": "query"}

        def get(self, request): ...

        def delete(self, request): ...

    assert access_problems(HalfDeclared) == ["DELETE is implemented but not in roles"]


def test_role_or_scope_view_when_declaring_a_missing_method_is_reported():
    class Stale(APIView):
        permission_classes = [RoleOrScope]
        roles = {"GET": SCREENERS, "POST": SCREENERS}
        scopes = {"GET": "query"}
        no_key_reason = "Only people post."

        def get(self, request): ...

    assert access_problems(Stale) == [
        "roles declares POST, which the view does not implement",
        "no_key_reason, yet every method has a scope",
    ]


def test_role_or_scope_view_when_spelling_out_its_own_roles_is_reported():
    class Local(APIView):
        permission_classes = [RoleOrScope]
        roles = {"GET": (Role.ANALYST,)}
        no_key_reason = "People only."

        def get(self, request): ...

    (problem,) = access_problems(Local)
    assert problem.startswith("roles['GET'] is not a group of bureau/core/roles.py")


def test_view_when_changing_roles_at_request_time_is_reported():
    class Mutating(APIView):
        permission_classes = [RoleOrScope]
        roles = {"GET": SCREENERS}
        no_key_reason = "People only."

        def get_permissions(self):
            self.roles = {"GET": MEMBER_ADMINS}
            return super().get_permissions()

        def get(self, request): ...

    assert access_problems(Mutating) == [
        "overrides get_permissions (declare roles per method)"
    ]


def test_view_when_still_setting_allowed_roles_is_reported():
    class Old(APIView):
        permission_classes = [RoleOrScope]
        roles = {"GET": SCREENERS}
        allowed_roles = (Role.ANALYST,)
        required_scope = "query"
        no_key_reason = "People only."

        def get(self, request): ...

    assert access_problems(Old) == [
        "sets allowed_roles, which nothing reads any more (declare roles and scopes)",
        "sets required_scope, which nothing reads any more (declare roles and scopes)",
    ]
