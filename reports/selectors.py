"""Reads for inquiries and reports."""

from __future__ import annotations

from django.db.models import QuerySet

from members.models import Member
from reports.models import Inquiry


def inquiries_of_member(*, member: Member | None) -> QuerySet[Inquiry]:
    """A member's own inquiries; bureau staff (member None) see all."""
    inquiries = Inquiry.objects.select_related("member", "api_key", "user")
    return inquiries if member is None else inquiries.filter(member=member)


def inquiry_for_report(*, inquiry_id, member: Member | None) -> Inquiry | None:
    """The inquiry whose report the caller may read: the asking member's own, or any
    for bureau staff (member None). Misses have no report."""
    inquiries = Inquiry.objects.filter(pk=inquiry_id, hit=True)
    if member is not None:
        inquiries = inquiries.filter(member=member)
    return inquiries.first()
