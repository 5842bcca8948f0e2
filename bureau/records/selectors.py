"""Reads of records: batches and their errors, give-to-get, disputes, profiles,
subjects.

Selectors never write: a profile that aggregation has not stored yet is
computed here by a SELECT, and stored only by the write paths (ingest's
aggregation, disputes, retention: bureau/records/services/aggregate.py)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from bureau.core.errors import NotFound
from bureau.records.models import (
    Batch,
    BatchError,
    BatchSubject,
    Dispute,
    Profile,
    Subject,
)
from bureau.records.services.aggregate import (
    PROFILE_COLUMNS,
    PROFILES_COMPUTE_SQL,
    profiles_params,
)
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


def subject_get(*, subject_id: int) -> Subject:
    """The subject with this id (NotFound otherwise: the API's 404)."""
    subject = Subject.objects.filter(pk=subject_id).first()
    if subject is None:
        raise NotFound()
    return subject


def contribution_cache_key(member_id: int) -> str:
    return f"contributed-last:{member_id}"


def member_last_contribution(*, member: Member, cached: Any = None):
    """When the member's latest accepted (not validate-only) batch finished, or None.

    Read on every query, so it is cached (5 minutes); a finishing batch clears it
    (`member_contribution_changed` in services/ingest.py: the write path).
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


def member_contributed_recently(
    *, member: Member, days: int, cached: Any = None
) -> bool:
    """Give-to-get: an accepted (not validate-only) batch finished within `days`.
    `cached` as for `member_last_contribution`."""
    from django.utils import timezone

    last = member_last_contribution(member=member, cached=cached)
    return last is not None and last >= timezone.now() - timedelta(days=days)


def batch_subject_ids(*, batch_id: int) -> Iterator[int]:
    """The subjects a batch touched, in id order (what its aggregation refreshes)."""
    return (
        BatchSubject.objects.filter(batch_id=batch_id)
        .order_by("subject_id")
        .values_list("subject_id", flat=True)
        .iterator(chunk_size=settings.BUREAU_AGGREGATE_CHUNK)
    )


def disputes_visible_to(*, member, status: str | None = None) -> QuerySet[Dispute]:
    """A furnisher sees the disputes on its own records; bureau staff (member
    None) see all. Soonest deadline first."""
    disputes = Dispute.objects.select_related("record", "subject", "member")
    if member is not None:
        disputes = disputes.filter(member=member)
    if status:
        disputes = disputes.filter(status=status)
    return disputes.order_by("due_at", "id")


def disputes_closed(*, member: Member, limit: int) -> QuerySet[Dispute]:
    """The member's answered (or withdrawn) disputes, latest answer first."""
    return (
        Dispute.objects.filter(member=member)
        .exclude(status=Dispute.Status.OPEN)
        .select_related("record", "subject")
        .order_by(F("answered_at").desc(nulls_last=True), "-opened_at", "-id")[:limit]
    )


def profiles_computed(*, subject_ids: Iterable[int]) -> dict[int, Profile]:
    """The profiles aggregation would store for these subjects (at most a chunk),
    computed by the same statement's SELECT and not stored: unsaved Profile
    objects by subject id; a subject with no record counted has none."""
    ids = sorted(set(subject_ids))
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(PROFILES_COMPUTE_SQL, profiles_params(ids))
        rows = cursor.fetchall()
    return {
        row[0]: Profile(
            subject_id=row[0], **dict(zip(PROFILE_COLUMNS, row[1:], strict=True))
        )
        for row in rows
    }


def profile_of(*, subject_id: int) -> Profile | None:
    """A subject's profile as stored, or, between an ingest's commit and its
    aggregation (which stores it), as computed now without storing it. None when
    the subject has no record counted."""
    profile = Profile.objects.filter(subject_id=subject_id).first()
    if profile is None:
        profile = profiles_computed(subject_ids=[subject_id]).get(subject_id)
    return profile
