"""Reads for batches and their errors."""

from __future__ import annotations

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


def member_contributed_recently(*, member: Member, days: int) -> bool:
    """Give-to-get: an accepted (not validate-only) batch finished within `days`."""
    from django.utils import timezone

    return Batch.objects.filter(
        member=member,
        validate_only=False,
        status__in=[Batch.Status.COMPLETED, Batch.Status.COMPLETED_WITH_ERRORS],
        finished_at__gte=timezone.now() - timezone.timedelta(days=days),
    ).exists()
