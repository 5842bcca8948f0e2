"""Data-subject rights over the API, reports' part: who looked a subject up, and
the subject's self-report. Bureau staff act for the subject (a borrower never logs
in); the records' part (disputes, statements) is bureau/records/api/
disputes_views.py, whose `SubjectBaseView` (bureau staff only) these share."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from bureau.core.roles import COMPLIANCE
from bureau.records.api.disputes_views import SubjectBaseView
from reports.services.self_report import self_report_produce
from reports.services.subject_rights import subject_inquiries_list


class SubjectInquiryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    member_code = serializers.CharField(source="member.code", default="")
    member_name = serializers.CharField(source="member.name", default="")
    by = serializers.SerializerMethodField()
    purpose = serializers.CharField()
    consent_reference = serializers.CharField()
    hit = serializers.BooleanField()

    def get_by(self, inquiry) -> str:
        if inquiry.api_key_id:
            return f"key:{inquiry.api_key.prefix}"
        if inquiry.user_id:
            return inquiry.user.get_username()
        return ""


class SubjectInquiriesView(SubjectBaseView):
    """Who looked this person up: every inquiry, hit or miss, members named."""

    serializer_class = SubjectInquiryOutput

    @extend_schema(responses=SubjectInquiryOutput(many=True))
    def get(self, request, subject_id: int):
        page = subject_inquiries_list(
            actor=request.user,
            subject=self.get_subject(subject_id),
            paginate=self.paginate_queryset,
        )
        return self.get_paginated_response(SubjectInquiryOutput(page, many=True).data)


class SelfReportView(SubjectBaseView):
    """The subject's self-report (compliance): all on file and every inquiry,
    members named; the third and later in a calendar year are chargeable."""

    roles = {"POST": COMPLIANCE}

    @extend_schema(request=None, responses={201: dict})
    def post(self, request, subject_id: int):
        report = self_report_produce(
            subject=self.get_subject(subject_id), actor=request.user
        )
        return Response(report, status=status.HTTP_201_CREATED)
