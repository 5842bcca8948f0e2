"""Reads for batches and their errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from bureau.records.models import Batch, BatchError
from members.models import Member


def batches_ahead(batch: Batch) -> QuerySet[Batch]:
    """The member's batches applied before this one (a member's batches are
    applied in upload order): earlier uploads not final yet. Validate-only ones
    apply nothing, so they wait for nobody and nobody waits for them."""
    return (
        Batch.objects.filter(member_id=batch.member_id, pk__lt=batch.pk)
        .exclude(status__in=Batch.FINAL_STATUSES)
        .filter(validate_only=False)
        .order_by("pk")
    )


def _ahead_count() -> Subquery:
    ahead = (
        Batch.objects.filter(
            member_id=OuterRef("member_id"), pk__lt=OuterRef("pk"), validate_only=False
        )
        .exclude(status__in=Batch.FINAL_STATUSES)
        .order_by()
        .values("member_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(ahead, output_field=IntegerField())


def batches_visible_to(*, member: Member | None) -> QuerySet[Batch]:
    """A member sees its own batches; bureau staff (member None) see all. Each
    carries `batches_ahead`: how many of its member's batches are applied before
    it while it waits (0 once it runs, and for validate-only ones)."""
    batches = Batch.objects.select_related("member").annotate(
        batches_ahead=Case(
            When(
                Q(status=Batch.Status.RECEIVED, validate_only=False),
                then=Coalesce(_ahead_count(), 0),
            ),
            default=Value(0),
            output_field=IntegerField(),
        )
    )
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
    return last is not None and last >= timezone.now() - timedelta(days=days)
