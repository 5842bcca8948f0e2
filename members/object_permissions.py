"""Object permissions (django-guardian) through two helpers, never scattered calls.

Most access in Bureau is member-level (a member's staff see the member's objects) or
bureau-level (bureau_admin and auditor see everything). Guardian adds the one thing
roles cannot say: "this person may read this one object" (a batch shared with an
analyst). Grant with `grant_object_permissions`, read with `filter_to_permitted`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from django.db.models import Model, QuerySet
from guardian.shortcuts import assign_perm, get_objects_for_user

from members.models import Role, User

M = TypeVar("M", bound=Model)

# Roles that read every object of every member: object permissions add nothing.
SEE_EVERYTHING = frozenset({Role.BUREAU_ADMIN, Role.AUDITOR})


def grant_object_permissions(
    *, obj: Model, users: Iterable = (), groups: Iterable = (), perms: Iterable[str]
) -> None:
    """Give each user and group each permission (`"view_batch"` or
    `"records.view_batch"`) on `obj`. Idempotent: granting twice changes nothing."""
    holders = [*users, *groups]
    for perm in perms:
        for holder in holders:
            assign_perm(perm, holder, obj)


def filter_to_permitted(*, user, queryset: QuerySet[M], perm: str) -> QuerySet[M]:
    """The part of `queryset` on which `user` holds `perm` as an object permission.

    Global (model-level) permissions are ignored on purpose: holding `view_batch`
    for the model must not open every batch. Bureau admins and auditors read
    everything and get the queryset unchanged; API keys and anonymous callers hold
    no object permissions and get nothing.
    """
    if not isinstance(user, User) or not user.is_active:
        return queryset.none()
    if user.role in SEE_EVERYTHING:
        return queryset
    return get_objects_for_user(user, perm, klass=queryset, accept_global_perms=False)
