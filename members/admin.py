from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin

from members.models import ApiKey, Member, User
from members.services import api_key_create, api_key_revoke


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "status", "contributes_since", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["code", "name"]
    readonly_fields = ["created_at"]


@admin.register(User)
class BureauUserAdmin(UserAdmin):
    list_display = ["username", "member", "role", "is_active", "last_login"]
    list_filter = ["role", "member", "is_active"]
    fieldsets = (*UserAdmin.fieldsets, ("Bureau", {"fields": ("member", "role")}))
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        ("Bureau", {"fields": ("member", "role")}),
    )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """The secret is never shown again: only its prefix. New keys show it once."""

    list_display = [
        "display",
        "member",
        "name",
        "scopes",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["member", "revoked_at"]
    search_fields = ["prefix", "name", "member__code"]
    fields = ["member", "name", "scopes", "allowed_networks", "expires_at"]
    readonly_fields = ["prefix", "created_at", "revoked_at", "last_used_at"]
    actions = ["revoke_keys"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        return [
            "member",
            "name",
            "prefix",
            "scopes",
            "allowed_networks",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "member",
            "name",
            "prefix",
            "scopes",
            "allowed_networks",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
        ]

    def save_model(self, request, obj, form, change):
        if change:
            return  # keys are immutable once issued; revoke and issue a new one
        key, full_key = api_key_create(
            member=obj.member,
            name=obj.name,
            scopes=obj.scopes,
            expires_at=obj.expires_at,
            allowed_networks=obj.allowed_networks,
            actor=request.user,
        )
        obj.pk = key.pk
        messages.warning(
            request, f"New API key (copy it now, it is shown only once): {full_key}"
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the audit trail refers to keys

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request, queryset):
        for key in queryset:
            api_key_revoke(key=key, actor=request.user)
