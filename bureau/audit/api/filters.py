"""Filters of the audit-events API (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from bureau.audit.models import AuditEvent
from bureau.core.filters import UtcIsoDateTimeFilter

FILTER_NAMES = (
    "actor",
    "member",
    "action",
    "object_type",
    "object_id",
    "since",
    "until",
)


def _actor_labels(value: str) -> list[str]:
    """`alice`, `key:<prefix>`, `<prefix>` or a full `bk_<prefix>_…` display."""
    if value.startswith("key:"):
        return [value]
    if value.startswith("bk_") and value.count("_") >= 2:
        return [f"key:{value.split('_')[1]}"]
    return [value, f"key:{value}"]


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(
        method="filter_actor", help_text="Username, or an API key's prefix."
    )
    member = django_filters.CharFilter(method="filter_member", help_text="Member code.")
    action = django_filters.CharFilter(
        method="filter_action",
        help_text="Exact action, or a prefix ending in '.' (e.g. 'query.').",
    )
    object_type = django_filters.CharFilter()
    object_id = django_filters.CharFilter()
    since = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Inclusive."
    )
    until = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Exclusive."
    )

    class Meta:
        model = AuditEvent
        fields = list(FILTER_NAMES)

    def filter_actor(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(actor_label__in=_actor_labels(value.strip()))

    def filter_member(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Through the event's relation (no database constraint: the trail outlives
        # members), so audit names no members model.
        return queryset.filter(member__code=value.strip())

    def filter_action(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip().removesuffix("*")
        if value.endswith("."):
            return queryset.filter(action__startswith=value)
        return queryset.filter(action=value)
