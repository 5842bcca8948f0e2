"""Disputes and statements as the API reaches them: each function is one view's
whole work (look up what the request names, read or act, audit), so the views in
`records/api/disputes_views.py` parse, call one of these and render.

Reads of personal data are audited with how much was shown, so a listing takes
the view's paginator and audits the page it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from bureau.audit.services import audit_record
from bureau.core.actors import ActorLike
from bureau.core.errors import NotFound, ValidationFailed
from bureau.records.models import Dispute, Record, Subject, SubjectStatement
from bureau.records.selectors import disputes_visible_to
from bureau.records.services.disputes import dispute_open
from members.models import Member

T = TypeVar("T")
# The view's paginator (DRF's `paginate_queryset`): the rows of the asked page
# (None when the view paginates nothing, read as no rows).
Paginate = Callable[[QuerySet[T]], Sequence[T] | None]


def disputes_list(
    *,
    actor: ActorLike,
    member: Member | None,
    status: str | None,
    paginate: Paginate[Dispute],
) -> Sequence[Dispute]:
    """A page of the disputes the caller may see, audited (`dispute.list`). A
    furnisher (member given) sees its open disputes, whatever status it asked
    for: what it must act on; bureau staff see all, or those in `status`."""
    if member is not None:
        status = Dispute.Status.OPEN
    page = paginate(disputes_visible_to(member=member, status=status)) or []
    audit_record(
        actor=actor,
        action="dispute.list",
        object_type="records.dispute",
        member=member,
        details={"status": status, "shown": len(page)},
    )
    return page


def dispute_get(*, member: Member | None, dispute_id: int) -> Dispute:
    """One dispute the caller may see (NotFound otherwise), not audited: for a
    write's own audit event."""
    dispute = disputes_visible_to(member=member).filter(pk=dispute_id).first()
    if dispute is None:
        raise NotFound()
    return dispute


def dispute_read(
    *, actor: ActorLike, member: Member | None, dispute_id: int
) -> Dispute:
    """One dispute the caller may see, audited (`dispute.view`)."""
    dispute = dispute_get(member=member, dispute_id=dispute_id)
    audit_record(
        actor=actor, action="dispute.view", obj=dispute, member=dispute.member_id
    )
    return dispute


def dispute_open_on(
    *, actor: ActorLike, member: Member | None, record_id: int, claim: str
) -> Dispute:
    """Open a dispute on the record with this id (compliance; `dispute_open`); an
    unknown id is a field error. Returns the dispute as the caller's listing
    shows it."""
    record = Record.objects.filter(pk=record_id).first()
    if record is None:
        raise ValidationFailed(errors={"record_id": [_("No such record.")]})
    dispute = dispute_open(record=record, claim=claim, actor=actor)
    return disputes_visible_to(member=member).get(pk=dispute.pk)


def statements_list(
    *, actor: ActorLike, subject: Subject, paginate: Paginate[SubjectStatement]
) -> Sequence[SubjectStatement]:
    """A page of a subject's statements, oldest first, audited
    (`statement.list`)."""
    statements = SubjectStatement.objects.filter(subject=subject).order_by(
        "created_at", "id"
    )
    page = paginate(statements) or []
    audit_record(
        actor=actor,
        action="statement.list",
        obj=subject,
        details={"shown": len(page)},
    )
    return page
