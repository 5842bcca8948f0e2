"""Reads for members, users and keys."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from members.models import ApiKey, Member


def api_keys_of_member(*, member: Member | None) -> QuerySet[ApiKey]:
    """The member's keys; none for None (bureau staff act for no member)."""
    return ApiKey.objects.filter(member=member).order_by("-created_at")


def member_usage(*, member: Member) -> dict:
    now = timezone.now()
    keys = ApiKey.objects.filter(member=member)
    active_keys = keys.filter(revoked_at__isnull=True).exclude(expires_at__lte=now)
    return {
        "users": member.users.filter(is_active=True).count(),
        "api_keys_active": active_keys.count(),
    }


def members_list(*, status: str | None = None) -> QuerySet[Member]:
    members = Member.objects.order_by("code")
    return members.filter(status=status) if status else members
