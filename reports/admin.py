"""Bureau staff views of watches and webhooks. Read-only: they change through the
API (and its audit trail). A webhook's secret is never shown."""

from django.contrib import admin

from bureau.core.admin import ReadOnlyAdmin
from reports.models import Watch, Webhook, WebhookAttempt, WebhookDelivery


@admin.register(Watch)
class WatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "member", "subject", "consent_reference", "created_at",
                    "deleted_at"]  # fmt: skip
    list_filter = ["member"]
    list_select_related = ["member", "subject"]
    raw_id_fields = ["subject"]
    fields = ["member", "subject", "user", "api_key", "consent_reference",
              "created_at", "deleted_at", "last_snapshot"]  # fmt: skip


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdmin):
    list_display = ["id", "member", "url", "events", "active", "created_at"]
    list_filter = ["active", "member"]
    list_select_related = ["member"]
    fields = ["member", "url", "events", "active", "user", "api_key", "created_at"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("attempted_at", "status_code", "latency_ms", "error")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "webhook", "event", "status", "attempts",
                    "last_status_code", "created_at", "delivered_at"]  # fmt: skip
    list_filter = ["status", "event"]
    list_select_related = ["webhook"]
    fields = ["webhook", "event", "event_key", "status", "attempts",
              "next_attempt_at", "last_status_code", "last_latency_ms", "last_error",
              "created_at", "delivered_at", "payload"]  # fmt: skip
    inlines = [WebhookAttemptInline]
