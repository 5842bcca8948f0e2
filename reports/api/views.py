from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from bureau.core.permissions import RoleOrScope
from bureau.core.roles import INQUIRY_READERS, QUERY_ROLES, REPORT_READER_ROLES
from members.permissions import actor_member
from reports.api.report_schema import ReportOutput
from reports.api.serializers import InquiryOutput, QueryInput
from reports.selectors import inquiries_of_member
from reports.services import query as query_service
from reports.services.pdf import render_pdf
from reports.services.report import report_read


class QueryView(APIView):
    """Look up one person's cross-platform profile, for a stated purpose."""

    permission_classes = [RoleOrScope]
    roles = {"POST": QUERY_ROLES}
    scopes = {"POST": "query"}

    @extend_schema(request=QueryInput, responses={200: ReportOutput, 404: dict})
    def post(self, request):
        data = QueryInput(data=request.data)
        data.is_valid(raise_exception=True)
        report = query_service.query_answer(
            actor=request.user,
            member=actor_member(request),
            data=query_service.QueryInput(**data.validated_data),
        )
        return Response(report)


class ReportView(APIView):
    """The report of an inquiry, as JSON, `?format=html` or `?format=pdf`."""

    permission_classes = [RoleOrScope]
    roles = {"GET": REPORT_READER_ROLES}
    scopes = {"GET": "query"}

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["json", "html", "pdf"])],
        responses={
            (200, "application/json"): ReportOutput,
            (200, "text/html"): OpenApiTypes.STR,
            (200, "application/pdf"): OpenApiTypes.BINARY,
        },
    )
    def get(self, request, inquiry_id):
        fmt = request.query_params.get("format", "json")
        inquiry = report_read(
            actor=request.user,
            member=actor_member(request),
            inquiry_id=inquiry_id,
            fmt=fmt,
        )
        if fmt == "json":
            return Response(inquiry.report)
        # The page is for reading, and the site links to it: in the site's
        # language (its cookie, else Accept-Language, else zh-hans), where the
        # API's messages follow Accept-Language alone (bureau/core/api_middleware.py).
        language = request.LANGUAGE_CODE
        with translation.override(language):
            html = render_to_string(
                "reports/report.html",
                {"report": inquiry.report, "for_print": fmt == "pdf"},
                request=request,
            )
        if fmt == "html":
            response = HttpResponse(html, content_type="text/html; charset=utf-8")
        else:
            response = HttpResponse(
                render_pdf(html, base_url=request.build_absolute_uri("/")),
                content_type="application/pdf",
            )
            disposition = f'inline; filename="report-{inquiry.pk}.pdf"'
            response["Content-Disposition"] = disposition
        response["Content-Language"] = language
        return response


class InquiryListView(GenericAPIView):
    """Inquiries made by your own member (auditable usage)."""

    permission_classes = [RoleOrScope]
    roles = {"GET": INQUIRY_READERS}
    scopes = {"GET": "query"}
    serializer_class = InquiryOutput

    @extend_schema(responses=InquiryOutput(many=True))
    def get(self, request):
        inquiries = inquiries_of_member(member=actor_member(request))
        page = self.paginate_queryset(inquiries)
        return self.get_paginated_response(InquiryOutput(page, many=True).data)
