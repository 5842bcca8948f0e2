from django.contrib import admin

from bureau.audit.models import Alert, AuditEvent
from bureau.core.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the table refuses UPDATE and DELETE anyway."""

    list_display = [
        "sequence",
        "created_at",
        "action",
        "actor_label",
        "member",
        "object_type",
        "object_id",
        "request_id",
    ]
    list_filter = ["action", "actor_type", "object_type", "member"]
    search_fields = ["action", "actor_label", "object_id", "request_id"]
    date_hierarchy = "created_at"
    ordering = ["-sequence"]
    list_select_related = ["member"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    """Read-only here: acknowledging or dismissing goes through
    PATCH /api/v1/alerts/{id}/, which audits it (alert.update)."""

    list_display = [
        "id",
        "created_at",
        "rule",
        "severity",
        "status",
        "member",
        "api_key",
        "window_start",
        "window_end",
    ]
    list_filter = ["rule", "status", "severity", "member"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    list_select_related = ["member", "api_key"]
