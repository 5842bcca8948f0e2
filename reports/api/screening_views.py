"""Bulk screening: upload a file of persons, poll it, read one result per person."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from bureau.core.csv import csv_response
from bureau.core.errors import TooLarge, ValidationFailed
from bureau.core.parsers import MultiPartParser
from bureau.core.permissions import RoleOrScope
from bureau.core.roles import SCREENERS
from members.permissions import actor_member
from reports.api.screening_serializers import (
    ScreeningCreateInput,
    ScreeningOutput,
    ScreeningResultOutput,
)
from reports.selectors import screenings_of_member
from reports.services.screening import screening_create, screening_results_read

RESULT_COLUMNS = ScreeningResultOutput.Meta.fields
# Multipart framing on top of the file itself.
_MULTIPART_SLACK = 64 * 1024


class ScreeningBaseView(GenericAPIView):
    permission_classes = [RoleOrScope]
    roles = {"GET": SCREENERS}
    scopes = {"GET": "query"}
    serializer_class = ScreeningOutput

    def get_queryset(self):
        return screenings_of_member(member=actor_member(self.request))

    def get_screening(self, screening_id: int):
        return get_object_or_404(self.get_queryset(), pk=screening_id)


class ScreeningListCreateView(ScreeningBaseView):
    """Screen up to 100,000 persons under one purpose and consent reference, or list
    your screenings (newest first)."""

    parser_classes = [MultiPartParser]
    roles = {"GET": SCREENERS, "POST": SCREENERS}
    scopes = {"GET": "query", "POST": "query"}

    @extend_schema(responses=ScreeningOutput(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ScreeningOutput(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": ScreeningCreateInput},
        responses={202: ScreeningOutput},
    )
    def post(self, request):
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > settings.BUREAU_MAX_UPLOAD_BYTES + _MULTIPART_SLACK:
            raise TooLarge(
                _("The file is larger than %(limit)s bytes.")
                % {"limit": settings.BUREAU_MAX_UPLOAD_BYTES}
            )
        data = ScreeningCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        screening = screening_create(
            actor=request.user,
            member=actor_member(request),
            handle=upload.file,
            filename=upload.name or "upload",
            content_type=upload.content_type,
            purpose=data.validated_data["purpose"],
            consent_reference=data.validated_data["consent_reference"],
        )
        return Response(
            ScreeningOutput(screening).data, status=status.HTTP_202_ACCEPTED
        )


class ScreeningDetailView(ScreeningBaseView):
    @extend_schema(responses=ScreeningOutput)
    def get(self, request, screening_id: int):
        return Response(ScreeningOutput(self.get_screening(screening_id)).data)


class ScreeningResultsView(ScreeningBaseView):
    """One line per person, in file order; `?format=csv` downloads them all."""

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"])],
        responses=ScreeningResultOutput(many=True),
    )
    def get(self, request, screening_id: int):
        screening = self.get_screening(screening_id)
        fmt = request.query_params.get("format", "json")
        if fmt not in ("json", "csv"):
            raise ValidationFailed(errors={"format": [_("Must be json or csv.")]})
        results = screening_results_read(
            actor=request.user, screening=screening, fmt=fmt
        )
        if fmt == "csv":
            rows = results.values_list(*RESULT_COLUMNS).iterator(chunk_size=5000)
            return csv_response(
                f"screening-{screening.pk}-results.csv",
                RESULT_COLUMNS,
                (_csv_cells(row) for row in rows),
            )
        page = self.paginate_queryset(results)
        return self.get_paginated_response(ScreeningResultOutput(page, many=True).data)


def _csv_cells(row: tuple) -> list:
    return [str(cell).lower() if isinstance(cell, bool) else cell for cell in row]
