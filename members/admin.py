from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from bureau.audit.services import IDENTITY_REFUSED, contains_identity
from bureau.core.errors import BureauError
from members import keycache
from members.models import ApiKey, Member, Role, User
from members.services import (
    REASON_MAX,
    api_key_create,
    api_key_revoke,
    clean_expiry,
    clean_networks,
    member_reinstate,
    member_suspend,
)


def _without_identity(text: str) -> str:
    """Codes, usernames and key names are in audit events as they are: refuse
    the ones shaped like an identity number or phone (the services do too)."""
    if text and contains_identity(text):
        raise forms.ValidationError(gettext(IDENTITY_REFUSED))
    return text


class StatusReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MemberAdminForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = ["code", "name", "kind"]  # the admin passes its own list

    def clean_code(self):
        return _without_identity(self.cleaned_data["code"])


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    """Status changes only through the actions: they ask for a reason, are
    audited and refuse the member's keys and sessions at once."""

    form = MemberAdminForm

    list_display = ["code", "name", "kind", "status", "contributes_since", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["code", "name"]
    readonly_fields = ["status", "status_reason", "created_at"]
    actions = ["suspend_members", "reinstate_members"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            keycache.forget_member(obj.pk)  # cached key rows carry member fields

    def has_status_permission(self, request) -> bool:
        user = request.user
        return user.is_superuser or (
            user.member_id is None and user.role in (Role.COMPLIANCE, Role.BUREAU_ADMIN)
        )

    def _status_action(self, request, queryset, *, service, action, title, text):
        form = StatusReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for member in queryset:
                try:
                    before = member.status
                    member = service(
                        member=member,
                        reason=form.cleaned_data["reason"],
                        actor=request.user,
                    )
                    done += member.status != before
                except BureauError as exc:
                    messages.error(request, f"{member.code}: {exc.detail}")
            messages.success(
                request,
                ngettext(
                    "%(title)s: %(count)d member changed.",
                    "%(title)s: %(count)d members changed.",
                    done,
                )
                % {"title": title, "count": done},
            )
            return None
        return TemplateResponse(
            request,
            "admin/members/member/status_change.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                "explanation": text,
                "queryset": queryset,
                "form": form,
                "action": action,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("Suspend selected members"), permissions=["status"])
    def suspend_members(self, request, queryset):
        return self._status_action(
            request,
            queryset,
            service=member_suspend,
            action="suspend_members",
            title=_("Suspend members"),
            text=_("Their users are logged out and their API keys refused at once."),
        )

    @admin.action(description=_("Reinstate selected members"), permissions=["status"])
    def reinstate_members(self, request, queryset):
        return self._status_action(
            request,
            queryset,
            service=member_reinstate,
            action="reinstate_members",
            title=_("Reinstate members"),
            text=_("Their users and API keys may be used again."),
        )


class BureauUserCreationForm(AdminUserCreationForm):
    def clean_username(self):
        return _without_identity(super().clean_username())


class BureauUserChangeForm(UserChangeForm):
    def clean_username(self):
        return _without_identity(self.cleaned_data["username"])


@admin.register(User)
class BureauUserAdmin(UserAdmin):
    form = BureauUserChangeForm
    add_form = BureauUserCreationForm
    list_display = ["username", "member", "role", "is_active", "last_login"]
    list_filter = ["role", "member", "is_active"]
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (_("Bureau"), {"fields": ("member", "role")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (_("Bureau"), {"fields": ("member", "role")}),
    )


class ApiKeyAdminForm(forms.ModelForm):
    """What `api_key_create` would refuse, as form errors rather than a 500."""

    class Meta:
        model = ApiKey
        fields = ["member", "name", "scopes", "allowed_networks", "expires_at"]

    def clean_name(self):
        return _without_identity(self.cleaned_data["name"])

    def _service_clean(self, field: str, clean):
        try:
            return clean(self.cleaned_data[field])
        except BureauError as exc:
            raise forms.ValidationError(exc.errors[field]) from exc

    def clean_allowed_networks(self):
        return self._service_clean(
            "allowed_networks", lambda networks: clean_networks(networks or [])
        )

    def clean_expires_at(self):
        return self._service_clean("expires_at", clean_expiry)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """The secret is never shown again: only its prefix. New keys show it once."""

    form = ApiKeyAdminForm

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
            "rotated_from",
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
            "rotated_from",
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
            request,
            gettext("New API key (copy it now, it is shown only once): %(key)s")
            % {"key": full_key},
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the audit trail refers to keys

    @admin.action(description=_("Revoke selected keys"))
    def revoke_keys(self, request, queryset):
        for key in queryset:
            api_key_revoke(key=key, actor=request.user)
