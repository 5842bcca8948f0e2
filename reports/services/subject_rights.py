"""Reports' part of a data subject's rights, as the API reaches it: who looked the
subject up (the self-report is services/self_report.py). One function per view:
read, audit what was shown."""

from __future__ import annotations

from collections.abc import Sequence

from bureau.audit.services import audit_record
from bureau.core.actors import ActorLike
from bureau.records.models import Subject
from bureau.records.services.subject_rights import Paginate
from reports.models import Inquiry
from reports.selectors import inquiries_about


def subject_inquiries_list(
    *, actor: ActorLike, subject: Subject, paginate: Paginate[Inquiry]
) -> Sequence[Inquiry]:
    """A page of every inquiry about the subject (hits, and misses for the same
    number), newest first, members named, audited (`subject.inquiries_view`)."""
    inquiries = (
        inquiries_about(subject)
        .select_related("member", "user", "api_key")
        .order_by("-created_at")
    )
    page = paginate(inquiries) or []
    audit_record(
        actor=actor,
        action="subject.inquiries_view",
        obj=subject,
        details={"shown": len(page)},
    )
    return page
