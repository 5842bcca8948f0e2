"""The Django admin for auditors: every model visible, nothing changeable.

Auditors (`role=auditor`, `is_staff=True`) read everything and change nothing. Rather
than asking every app's admin to remember that, the admin site itself wraps each
registered ModelAdmin (and its inlines) in `AuditorReadOnlyAdmin`, and refuses any
unsafe request from an auditor to a model admin view — actions included, since
Django runs changelist actions on POST without asking for change permission.
Auditors' admin reads are audited (`admin.view`).

Installed by replacing "django.contrib.admin" with
"members.admin_access.BureauAdminConfig" in INSTALLED_APPS. This module is imported
while the app registry is still loading: no model imports at module level.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied

AUDITOR_ROLE = "auditor"  # members.models.Role.AUDITOR
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_auditor(user) -> bool:
    return bool(
        user.is_active and user.is_staff and getattr(user, "role", "") == AUDITOR_ROLE
    )


# Admin pages that show personal data: every staff read of them is audited.
PERSONAL_DATA_MODELS = frozenset({
    "records.subject", "records.record", "records.dispute",
    "records.subjectstatement", "reports.inquiry", "reports.watch",
})  # fmt: skip


def _audit_read(request, model, object_id: str | None = None) -> None:
    if request.method != "GET":
        return
    personal = model._meta.label_lower in PERSONAL_DATA_MODELS
    if not (personal or is_auditor(request.user)):
        return
    from bureau.audit.services import audit_record

    audit_record(
        actor=request.user,
        action="admin.view",
        object_type=model._meta.label_lower,
        object_id=None if object_id is None else str(object_id)[:64],
        details={"view": "change" if object_id is not None else "changelist"},
    )


class _ReadOnlyForAuditors:
    """Permissions for ModelAdmin and InlineModelAdmin alike."""

    def has_view_permission(self, request, obj=None):
        return is_auditor(request.user) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args, **kwargs):
        if is_auditor(request.user):
            return False
        return super().has_add_permission(request, *args, **kwargs)

    def has_change_permission(self, request, obj=None):
        if is_auditor(request.user):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if is_auditor(request.user):
            return False
        return super().has_delete_permission(request, obj)


class AuditorReadOnlyAdmin(_ReadOnlyForAuditors):
    """Mixed in front of every registered ModelAdmin by `BureauAdminSite`."""

    def has_module_permission(self, request):
        return is_auditor(request.user) or super().has_module_permission(request)

    def get_actions(self, request):
        return {} if is_auditor(request.user) else super().get_actions(request)

    def changelist_view(self, request, extra_context=None):
        _audit_read(request, self.model)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        _audit_read(request, self.model, object_id)
        return super().change_view(request, object_id, form_url, extra_context)


def read_only_for_auditors(
    admin_class: type[admin.ModelAdmin],
) -> type[admin.ModelAdmin]:
    """`admin_class` with `AuditorReadOnlyAdmin` in front (inlines too)."""
    if issubclass(admin_class, AuditorReadOnlyAdmin):
        return admin_class
    inlines = [
        inline
        if issubclass(inline, _ReadOnlyForAuditors)
        else type(inline.__name__, (_ReadOnlyForAuditors, inline), {})
        for inline in admin_class.inlines
    ]
    attrs = {"inlines": inlines, "__module__": admin_class.__module__}
    return type(admin_class.__name__, (AuditorReadOnlyAdmin, admin_class), attrs)


class BureauAdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = read_only_for_auditors(admin_class or admin.ModelAdmin)
        super().register(model_or_iterable, admin_class, **options)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)
        if getattr(view, "__self__", None) is self:
            return inner  # the site's own pages: index, logout, own password

        @wraps(inner)
        def refuse_auditor_writes(request, *args, **kwargs):
            if request.method not in SAFE_METHODS and is_auditor(request.user):
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return refuse_auditor_writes


class BureauAdminConfig(AdminConfig):
    default_site = "members.admin_access.BureauAdminSite"
