"""Reads for batches and their errors."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from bureau.records.models import Batch, BatchError
from members.models import Member


def batches_visible_to(*, member: Member | None) -> QuerySet[Batch]:
    """A member sees its own batches; bureau staff (member None) see all."""
    batches = Batch.objects.select_related("member")
    return batches if member is None else batches.filter(member=member)


def batch_errors(
    *, batch: Batch, code: str | None = None, column: str | None = None
) -> QuerySet[BatchError]:
    errors = BatchError.objects.filter(batch=batch).order_by("row", "id")
    if code:
        errors = errors.filter(code=code)
    if column:
        errors = errors.filter(column=column)
    return errors


def contribution_cache_key(member_id: int) -> str:
    return f"contributed-last:{member_id}"


def member_last_contribution(*, member: Member, cached: Any = None):
    """When the member's latest accepted (not validate-only) batch finished, or None.

    Read on every query, so it is cached (5 minutes); a finishing batch clears it.
    `cached`: the entry under `contribution_cache_key`, when the caller fetched
    it along with something else (None: missing, or not fetched)."""
    from django.core.cache import cache
    from django.db.models import Max

    key = contribution_cache_key(member.pk)
    if cached is None:
        cached = cache.get(key)
    if cached is not None:
        return cached or None
    last = Batch.objects.filter(
        member=member,
        validate_only=False,
        status__in=[Batch.Status.COMPLETED, Batch.Status.COMPLETED_WITH_ERRORS],
    ).aggregate(last=Max("finished_at"))["last"]
    cache.set(key, last or "", timeout=300)
    return last


def member_contribution_changed(*, member_id: int) -> None:
    from django.core.cache import cache

    cache.delete(contribution_cache_key(member_id))


def member_contributed_recently(
    *, member: Member, days: int, cached: Any = None
) -> bool:
    """Give-to-get: an accepted (not validate-only) batch finished within `days`.
    `cached` as for `member_last_contribution`."""
    from django.utils import timezone

    last = member_last_contribution(member=member, cached=cached)
    return last is not None and last >= timezone.now() - timezone.timedelta(days=days)
