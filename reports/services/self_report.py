"""The subject's own report (produced by compliance on the subject's request):
everything on file, with members named, plus every inquiry about the subject with
the asking member named, its time and purpose.

Two self-reports a subject per calendar year are free, later ones are marked
chargeable. Each is an Inquiry (purpose self_inquiry, no consent reference) and
an audit event, like any query.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from bureau.audit.services import audit_record
from bureau.core.actors import ActorLike
from bureau.core.context import current_request_id
from bureau.records.models import Subject
from bureau.records.services.disputes import require_compliance
from reports.models import Inquiry, Purpose
from reports.selectors import inquiries_about
from reports.services.query import name_hash_of, normalise_name
from reports.services.report import build_report

FREE_PER_YEAR = 2


def _inquiry_log(subject: Subject, *, exclude_id) -> list[dict]:
    rows = (
        inquiries_about(subject)
        .exclude(pk=exclude_id)
        .order_by("-created_at")
        .values("created_at", "purpose", "hit", "member__code", "member__name")
    )
    return [
        {
            "at": timezone.localtime(row["created_at"]).isoformat(),
            "member": row["member__name"] or "Bureau",
            "member_code": row["member__code"] or "",
            "purpose": row["purpose"],
            "found": row["hit"],
        }
        for row in rows
    ]


def self_report_produce(*, subject: Subject, actor: ActorLike) -> dict:
    """Produce the subject's self-report (compliance); returns it as recorded on
    the inquiry."""
    officer = require_compliance(actor)
    inquiry_id = uuid.uuid4()
    with transaction.atomic():
        # Serialises self-reports of one subject: the count below stays exact.
        # NO KEY: leaves the KEY SHARE of concurrent inquiries' foreign keys free
        # (they take it holding the audit chain lock this transaction wants).
        subject = Subject.objects.select_for_update(no_key=True).get(pk=subject.pk)
        now = timezone.now()
        year_start = timezone.localtime(now).replace(
            month=1, day=1, hour=0, minute=0, second=0, microsecond=0
        )
        earlier = Inquiry.objects.filter(
            subject=subject,
            purpose=Purpose.SELF_INQUIRY,
            hit=True,
            created_at__gte=year_start,
        ).count()
        number = earlier + 1
        report = build_report(
            subject=subject,
            inquiry_id=inquiry_id,
            asking_member_id=None,
            show_member_names=True,
        )
        report.update(
            kind="self_report",
            purpose=Purpose.SELF_INQUIRY,
            number_this_year=number,
            chargeable=number > FREE_PER_YEAR,
            inquiry_log=_inquiry_log(subject, exclude_id=inquiry_id),
        )
        inquiry = Inquiry.objects.create(
            id=inquiry_id,
            member=None,
            user=officer,
            subject=subject,
            id_type=subject.id_type,
            id_hash=subject.id_hash,
            id_masked=subject.id_masked,
            name_hash=name_hash_of(normalise_name(subject.name)),
            purpose=Purpose.SELF_INQUIRY,
            consent_reference="",
            hit=True,
            report=report,
            request_id=current_request_id(),
        )
        audit_record(
            actor=actor,
            action="self_report.produce",
            obj=inquiry,
            details={
                "subject": subject.pk,
                "number_this_year": number,
                "chargeable": report["chargeable"],
                "inquiries_listed": len(report["inquiry_log"]),
            },
        )
    return report
