"""Watches: a member monitors a person under a consent reference.

A watch is created with the identity checks of a query (a watch is standing
post-loan monitoring, so it is validated as a `post_loan_management` query) and
answers an unknown person or a name mismatch exactly like a query miss. It is not
an Inquiry: no report is answered when it is created, and the alerts carry only
figures; it is audited as `watch.create` (a miss as `watch.not_found`) and counts
against the query rate limit, so watches cannot be used to probe numbers unseen.

After profiles are recomputed for a chunk of subjects, `watches_check` compares
every live watch's `last_snapshot` with the profile and queues a `profile.changed`
event for the watching member when something material changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from bureau.audit.services import audit_record
from bureau.core.actors import ActorLike
from bureau.core.errors import Conflict, Forbidden, NotFound
from bureau.records.models import Subject
from bureau.records.selectors import profile_of
from members.models import Member
from members.principals import Principal, actor_user_and_key
from reports.models import Purpose, Watch, WebhookEvent
from reports.services.query import QueryInput, admit_request, find_subject
from reports.services.webhooks import events_queue

# The profile figures a watch remembers; a change in them is what alerts are about.
SNAPSHOT_FIELDS = (
    "platforms_total",
    "platforms_with_overdue",
    "accounts_overdue",
    "total_amount_overdue",
    "max_days_overdue",
    "blacklisted",
)
_EMPTY = {
    "platforms_total": 0,
    "platforms_with_overdue": 0,
    "accounts_overdue": 0,
    "total_amount_overdue": "0.00",
    "max_days_overdue": 0,
    "blacklisted": False,
}
CHANGES = ("new_overdue", "new_platform", "blacklisted", "cleared")


@dataclass(frozen=True)
class WatchInput:
    id_type: str
    id_number: str
    name: str
    consent_reference: str


def snapshot_of(values: Iterable[Any] | None) -> dict[str, Any]:
    """The JSON snapshot of profile figures in SNAPSHOT_FIELDS order (None: no
    profile, i.e. no records left)."""
    if values is None:
        return dict(_EMPTY)
    snap = dict(zip(SNAPSHOT_FIELDS, values, strict=True))
    snap["total_amount_overdue"] = f"{Decimal(snap['total_amount_overdue']):.2f}"
    return snap


def _overdue(snap: dict[str, Any]) -> tuple[int, Decimal]:
    return (
        int(snap.get("accounts_overdue", 0)),
        Decimal(snap.get("total_amount_overdue", "0")),
    )


def material_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed that a watching member must hear about, in CHANGES order.

    new_overdue: more overdue accounts or a larger overdue amount; new_platform:
    another platform reports the person; blacklisted: off → on; cleared: on → off,
    or overdue back to nothing. Anything else (balances, fewer overdue accounts
    that are still overdue, days ticking) is not material.
    """
    old = {**_EMPTY, **old}
    old_accounts, old_amount = _overdue(old)
    new_accounts, new_amount = _overdue(new)
    changes = []
    if new_accounts > old_accounts or new_amount > old_amount:
        changes.append("new_overdue")
    if int(new["platforms_total"]) > int(old["platforms_total"]):
        changes.append("new_platform")
    if new["blacklisted"] and not old["blacklisted"]:
        changes.append("blacklisted")
    was_overdue = old_accounts > 0 or old_amount > 0
    is_overdue = new_accounts > 0 or new_amount > 0
    if (old["blacklisted"] and not new["blacklisted"]) or (
        was_overdue and not is_overdue
    ):
        changes.append("cleared")
    return changes


# -- writes --------------------------------------------------------------------------


def _current_snapshot(subject: Subject) -> dict[str, Any]:
    profile = profile_of(subject_id=subject.pk)
    values = None
    if profile is not None:
        values = tuple(getattr(profile, name) for name in SNAPSHOT_FIELDS)
    return snapshot_of(values)


def watch_create(*, actor: Principal, member: Member | None, data: WatchInput) -> Watch:
    """Watch a person on file; a miss raises NotFound exactly like a query's."""
    if member is None:
        raise Forbidden(gettext("Only member platforms watch persons."))
    request = QueryInput(
        id_type=data.id_type,
        id_number=data.id_number,
        name=data.name,
        purpose=Purpose.POST_LOAN_MANAGEMENT,
        consent_reference=data.consent_reference,
    )
    normalized, name, terms = admit_request(request, actor=actor, member=member)
    subject, _ = find_subject(data.id_type, normalized, name)
    if subject is None:
        audit_record(
            actor=actor,
            action="watch.not_found",
            member=member,
            details={"id_type": data.id_type},
        )
        raise NotFound(gettext("No matching person on file."))

    user, key = actor_user_and_key(actor)
    snapshot = _current_snapshot(subject)
    duplicate = Conflict(gettext("You already watch this person."))
    with transaction.atomic():
        if Watch.objects.filter(
            member=member, subject=subject, deleted_at__isnull=True
        ).exists():
            raise duplicate
        try:
            with transaction.atomic():
                watch = Watch.objects.create(
                    member=member,
                    subject=subject,
                    user=user,
                    api_key=key,
                    consent_reference=terms.consent_reference,
                    last_snapshot=snapshot,
                )
        except IntegrityError:  # a concurrent request created it first
            raise duplicate from None
        audit_record(
            actor=actor,
            action="watch.create",
            obj=watch,
            member=member,
            details={"subject": subject.pk},
        )
    return watch


def watch_delete(*, actor: ActorLike, watch: Watch) -> None:
    """Stop watching (soft delete: the row stays for the audit trail)."""
    with transaction.atomic():
        stopped = Watch.objects.filter(pk=watch.pk, deleted_at__isnull=True).update(
            deleted_at=timezone.now()
        )
        if stopped:
            audit_record(
                actor=actor,
                action="watch.delete",
                obj=watch,
                member=watch.member_id,
                details={"subject": watch.subject_id},
            )


# -- change detection ----------------------------------------------------------------


def watches_check(*, subject_ids: Iterable[int]) -> int:
    """Compare live watches on these subjects with their profiles (just refreshed).

    One query reads the watches (locked, so two chunks touching the same person
    alert once) with their subjects' profiles; one statement stores the new
    snapshots; one insert queues the deliveries. Returns the number of
    `profile.changed` events. Idempotent: a re-run finds the snapshots current.
    """
    ids = sorted(set(subject_ids))
    if not ids:
        return 0
    profile = [f"subject__profile__{name}" for name in SNAPSHOT_FIELDS]
    with transaction.atomic():
        rows = list(
            Watch.objects.filter(subject_id__in=ids, deleted_at__isnull=True)
            .select_for_update(of=("self",))
            .order_by("pk")
            .values_list(
                "pk",
                "member_id",
                "consent_reference",
                "last_snapshot",
                "subject__id_type",
                "subject__id_masked",
                "subject__profile__subject_id",
                *profile,
            )
        )
        changed: list[Watch] = []
        events: list[tuple[int, dict[str, Any], str]] = []
        for pk, member_id, consent, old, id_type, masked, has_profile, *figures in rows:
            current = snapshot_of(figures if has_profile else None)
            if current == {**_EMPTY, **(old or {})}:
                continue
            changed.append(Watch(pk=pk, last_snapshot=current))
            changes = material_changes(old or {}, current)
            if changes:
                data = {
                    "watch_id": pk,
                    "consent_reference": consent,
                    "subject": {"id_type": id_type, "id_masked": masked},
                    "changes": changes,
                    "previous": {**_EMPTY, **(old or {})},
                    "current": current,
                }
                events.append((member_id, data, ""))
        if changed:
            Watch.objects.bulk_update(changed, ["last_snapshot"])
        if events:
            events_queue(event=WebhookEvent.PROFILE_CHANGED, items=events)
    return len(events)
