from django.contrib import admin

from bureau.audit.models import AuditEvent


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
    list_filter = ["action", "actor_type", "member"]
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
