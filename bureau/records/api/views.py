from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from bureau.audit.services import audit_record
from bureau.core.csv import csv_response
from bureau.core.errors import BureauError, TooLarge, ValidationFailed
from bureau.core.parsers import MultiPartParser
from bureau.records.api.filters import BatchFilter
from bureau.records.api.serializers import (
    BatchCreateInput,
    BatchErrorOutput,
    BatchOutput,
    BatchShareInput,
    BatchShareOutput,
)
from bureau.records.fileformat import messages
from bureau.records.selectors import batch_errors, batches_visible_to
from bureau.records.services.sharing import SHARE_PERMISSION, batch_share
from bureau.records.services.upload import FileRefused, batch_create
from members.models import FURNISHER_ROLES, Role
from members.object_permissions import filter_to_permitted
from members.permissions import RoleOrScope, actor_member

UPLOADERS = tuple(FURNISHER_ROLES)
BATCH_READERS = (*UPLOADERS, Role.BUREAU_ADMIN, Role.AUDITOR)
SHARED_BATCH_READERS = (*BATCH_READERS, Role.ANALYST)
# Multipart framing on top of the file itself.
_MULTIPART_SLACK = 64 * 1024


class BatchBaseView(GenericAPIView):
    permission_classes = [RoleOrScope]
    required_scope: str | None = "upload"
    allowed_roles = BATCH_READERS

    def get_queryset(self):
        batches = batches_visible_to(member=actor_member(self.request))
        if getattr(self.request.user, "role", "") == Role.ANALYST:
            # Analysts read only the batches a member admin shared with them.
            return filter_to_permitted(
                user=self.request.user, queryset=batches, perm=SHARE_PERMISSION
            )
        return batches

    def get_batch(self, batch_id: int):
        return get_object_or_404(self.get_queryset(), pk=batch_id)


class BatchListCreateView(BatchBaseView):
    """Upload a batch of records, or list your batches (newest first)."""

    parser_classes = [MultiPartParser]
    filterset_class = BatchFilter
    serializer_class = BatchOutput

    def get_permissions(self):
        if self.request.method == "POST":
            self.allowed_roles = UPLOADERS
        return super().get_permissions()

    @extend_schema(responses=BatchOutput(many=True))
    def get(self, request):
        batches = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(batches)
        return self.get_paginated_response(BatchOutput(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": BatchCreateInput},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={202: BatchOutput, 200: BatchOutput},
    )
    def post(self, request):
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > settings.BUREAU_MAX_UPLOAD_BYTES + _MULTIPART_SLACK:
            limit = settings.BUREAU_MAX_UPLOAD_BYTES
            raise _localize(
                TooLarge(messages.fill(messages.MSG_UPLOAD_TOO_LARGE, limit=limit))
            )
        member = actor_member(request)
        if member is None:
            raise ValidationFailed("Bureau staff cannot furnish records.")
        data = BatchCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        idempotency_key = (
            request.headers.get("Idempotency-Key", "").strip()[:128] or None
        )
        try:
            batch, created = batch_create(
                member=member,
                handle=upload.file,
                filename=upload.name or "upload",
                content_type=upload.content_type,
                fmt=data.validated_data.get("format"),
                encoding=data.validated_data.get("encoding"),
                validate_only=data.validated_data["validate_only"],
                strict=data.validated_data["strict"],
                idempotency_key=idempotency_key,
                actor=request.user,
            )
        except (FileRefused, TooLarge) as exc:
            _localize(exc)
            raise
        code = status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
        batch = batches_visible_to(member=member).get(pk=batch.pk)  # batches_ahead
        return Response(BatchOutput(batch).data, status=code)


def _localize(exc: BureauError) -> BureauError:
    """A refused file's detail and messages in the request's language (stored and
    logged in English); its code, status and fields unchanged."""
    exc.detail = messages.localize(exc.detail, gettext)
    exc.errors = messages.localize_errors(exc.errors, gettext)
    return exc


class BatchDetailView(BatchBaseView):
    # An analyst passes the role check but sees only batches shared with them.
    allowed_roles = SHARED_BATCH_READERS

    @extend_schema(responses=BatchOutput)
    def get(self, request, batch_id: int):
        return Response(BatchOutput(self.get_batch(batch_id)).data)


class BatchErrorsView(BatchBaseView):
    """Rejected rows: row number, column, code, message, masked value.

    `?format=csv` downloads them all as CSV; `?code=` and `?column=` filter.
    """

    allowed_roles = SHARED_BATCH_READERS

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["json", "csv"]),
            OpenApiParameter("code", str),
            OpenApiParameter("column", str),
        ],
        responses=BatchErrorOutput(many=True),
    )
    def get(self, request, batch_id: int):
        batch = self.get_batch(batch_id)
        errors = batch_errors(
            batch=batch,
            code=request.query_params.get("code"),
            column=request.query_params.get("column"),
        )
        fmt = request.query_params.get("format", "json")
        if fmt == "csv":
            audit_record(actor=request.user, action="batch.errors_download", obj=batch,
                         member=batch.member_id)  # fmt: skip
            rows = errors.values_list("row", "column", "code", "message", "value")
            return csv_response(
                f"batch-{batch.pk}-errors.csv",
                ["row", "column", "code", "message", "value"],
                messages.localize_rows(
                    rows.iterator(chunk_size=5000), gettext, column=3
                ),
            )
        if fmt != "json":
            raise ValidationFailed(errors={"format": ["Must be json or csv."]})
        page = self.paginate_queryset(errors)
        return self.get_paginated_response(BatchErrorOutput(page, many=True).data)


class BatchShareView(BatchBaseView):
    """Let one analyst of your member read this batch and its rejected rows."""

    allowed_roles = (Role.MEMBER_ADMIN,)
    required_scope = None
    no_key_reason = "Sharing grants a person access: only a logged-in member admin."

    @extend_schema(request=BatchShareInput, responses=BatchShareOutput)
    def post(self, request, batch_id: int):
        batch = self.get_batch(batch_id)
        data = BatchShareInput(data=request.data, context={"member": batch.member})
        data.is_valid(raise_exception=True)
        user = data.validated_data["username"]
        batch_share(batch=batch, user=user, actor=request.user)
        body = {"batch": batch, "user": user, "permission": SHARE_PERMISSION}
        return Response(BatchShareOutput(body).data)
