from django.contrib import admin

from bureau.audit.models import Alert, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
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

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
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

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
