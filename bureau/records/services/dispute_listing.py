"""The furnisher's disputes, read and audited in one call (the disputes page).

Listing disputes shows the subjects' claims, so every listing is an audit event
(`dispute.list`), as for `GET /api/v1/disputes/`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bureau.audit.services import audit_record
from bureau.core.actors import ActorLike
from bureau.records.models import Dispute
from bureau.records.selectors import disputes_closed, disputes_visible_to
from members.models import Member


@dataclass(frozen=True)
class FurnisherDisputes:
    open: list[Dispute]  # soonest deadline first
    closed: list[Dispute]  # latest answer first, at most `closed_limit`


def furnisher_disputes_read(
    *, actor: ActorLike, member: Member, closed_limit: int
) -> FurnisherDisputes:
    """The member's open disputes and its latest closed ones; audited."""
    listing = FurnisherDisputes(
        open=list(disputes_visible_to(member=member, status=Dispute.Status.OPEN)),
        closed=list(disputes_closed(member=member, limit=closed_limit)),
    )
    audit_record(
        actor=actor,
        action="dispute.list",
        object_type="records.dispute",
        member=member,
        details={
            "status": "open",
            "shown": len(listing.open),
            "closed": len(listing.closed),
        },
    )
    return listing
