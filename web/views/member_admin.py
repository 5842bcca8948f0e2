"""Member admin pages: the member's API keys (issue, rotate, revoke), its users and
its usage. Reads go through members.selectors, writes through members.services;
these views only translate between HTTP and them."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from bureau.core.errors import BureauError
from bureau.core.roles import MEMBER_ADMINS, Role
from members.models import ApiKey, Member
from members.selectors import api_keys_of_member, member_usage
from members.services import api_key_create, api_key_revoke, api_key_rotate
from web.access import member_of, role_required
from web.forms_member_admin import SCOPE_LABELS, ApiKeyCreateForm

# The full key of a key just issued waits here for the one page that shows it.
NEW_KEY_SESSION = "web.new_api_key"

ROLE_LABELS = {
    Role.MEMBER_ADMIN: gettext_lazy("Member admin"),
    Role.UPLOADER: gettext_lazy("Uploader"),
    Role.ANALYST: gettext_lazy("Analyst"),
}


def _key(request, key_id: int) -> ApiKey:
    """One of the member's keys; another member's is a 404."""
    return get_object_or_404(api_keys_of_member(member=member_of(request)), pk=key_id)


def _key_rows(member: Member) -> list[dict]:
    keys = api_keys_of_member(member=member).select_related(
        "rotated_from", "rotated_to", "created_by"
    )
    rows = []
    for key in keys:
        if key.is_revoked:
            state = "revoked"
        elif key.is_expired():
            state = "expired"
        else:
            state = "active"
        rows.append(
            {
                "key": key,
                "state": state,
                "scopes": [SCOPE_LABELS.get(s, s) for s in key.scopes],
                "successor": getattr(key, "rotated_to", None),
            }
        )
    return rows


def _show_once(request, key: ApiKey, full_key: str, *, rotated: ApiKey | None):
    """Keep the full key for the next page only; that page deletes it."""
    request.session[NEW_KEY_SESSION] = {
        "key_id": key.pk,
        "full_key": full_key,
        "rotated_id": rotated.pk if rotated else None,
    }
    return redirect("web:key-created")


@role_required(*MEMBER_ADMINS)
@require_GET
def keys(request):
    member = member_of(request)
    users = member.users.order_by("username")
    return render(
        request,
        "web/member_admin/keys.html",
        {
            "member": member,
            "key_rows": _key_rows(member),
            "users": [(user, ROLE_LABELS.get(user.role, user.role)) for user in users],
            "usage": member_usage(member=member),
            "form": ApiKeyCreateForm(),
        },
    )


@role_required(*MEMBER_ADMINS)
@require_http_methods(["GET", "POST"])
def key_create(request):
    member = member_of(request)
    if request.method == "GET":
        return render(
            request, "web/member_admin/key_new.html", {"form": ApiKeyCreateForm()}
        )
    form = ApiKeyCreateForm(request.POST)
    if form.is_valid():
        try:
            key, full_key = api_key_create(
                member=member, actor=request.user, **form.service_kwargs()
            )
        except BureauError as exc:
            form.add_service_errors(exc.errors)
            if not exc.errors:
                form.add_error(None, exc.detail)
        else:
            return _show_once(request, key, full_key, rotated=None)
    return render(request, "web/member_admin/key_new.html", {"form": form}, status=400)


@role_required(*MEMBER_ADMINS)
@require_GET
@never_cache
def key_created(request):
    """The full key, this one time: it is gone from the session once rendered,
    and the page is never cached, so neither reload nor Back shows it again."""
    shown = request.session.pop(NEW_KEY_SESSION, None)
    if not shown:
        messages.info(
            request,
            _("A new key is shown once only, right after it is issued."),
        )
        return redirect("web:keys")
    key = _key(request, shown["key_id"])
    rotated = _key(request, shown["rotated_id"]) if shown["rotated_id"] else None
    return render(
        request,
        "web/member_admin/key_created.html",
        {
            "key": key,
            "full_key": shown["full_key"],
            "rotated": rotated,
            "scopes": [SCOPE_LABELS.get(s, s) for s in key.scopes],
        },
    )


@role_required(*MEMBER_ADMINS)
@require_http_methods(["GET", "POST"])
def key_revoke(request, key_id: int):
    key = _key(request, key_id)
    if request.method == "POST":
        api_key_revoke(key=key, actor=request.user)
        messages.success(
            request,
            _("Key %(key)s is revoked; it is refused from now on.")
            % {"key": key.display},
        )
        return redirect("web:keys")
    return render(
        request, "web/member_admin/key_confirm.html", {"key": key, "action": "revoke"}
    )


@role_required(*MEMBER_ADMINS)
@require_http_methods(["GET", "POST"])
def key_rotate(request, key_id: int):
    key = _key(request, key_id)
    if request.method == "POST":
        try:
            new, full_key = api_key_rotate(key=key, actor=request.user)
        except BureauError as exc:
            messages.error(request, exc.detail)
            return redirect("web:keys")
        return _show_once(request, new, full_key, rotated=key)
    return render(
        request,
        "web/member_admin/key_confirm.html",
        {
            "key": key,
            "action": "rotate",
            "overlap_hours": settings.BUREAU_KEY_ROTATION_OVERLAP_HOURS,
        },
    )
