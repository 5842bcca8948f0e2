"""`GET /api/v1/audit-events/`: the audit trail, for auditors and bureau admins."""

from __future__ import annotations

import json

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import Cursor, CursorPagination

from bureau.audit.api.filters import FILTER_NAMES, AuditEventFilter
from bureau.audit.api.serializers import CSV_COLUMNS, AuditEventOutput
from bureau.audit.selectors import audit_events
from bureau.audit.services import audit_trail_read, redact_identity
from bureau.core.csv import csv_response
from bureau.core.errors import ValidationFailed
from bureau.core.permissions import RoleOrScope
from bureau.core.roles import TRAIL_READERS

_CSV_FIELDS = tuple("member__code" if c == "member" else c for c in CSV_COLUMNS)


class AuditCursorPagination(CursorPagination):
    """Cursor pages: the table is append-only and large, so no COUNT(*) and no
    OFFSET; pages stay stable while new events are appended."""

    ordering = "-sequence"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000

    def decode_cursor(self, request) -> Cursor | None:
        """DRF checks a cursor's offset but not its position, which goes into
        the query as a `sequence`: anything but a bigint is an invalid cursor
        (404, as DRF answers other bad cursors), not a 500."""
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        try:
            position = int(cursor.position)
        except ValueError:
            position = None
        if position is None or not -(2**63) <= position < 2**63:
            raise NotFound(self.invalid_cursor_message)
        # DRF keeps the position as text (it orders by any field); the stubs say int.
        return cursor._replace(position=str(position))  # type: ignore[arg-type]


def _recorded_filters(params) -> dict[str, str]:
    """The filters as given, trimmed, with anything identity-like blanked: the
    audit details never carry identity numbers, even ones typed into a filter."""
    return {
        name: redact_identity(params[name][:100])
        for name in FILTER_NAMES
        if name in params
    }


def _csv_rows(rows):
    for row in rows:
        cells = dict(zip(CSV_COLUMNS, row, strict=True))
        cells["created_at"] = cells["created_at"].isoformat()
        cells["details"] = json.dumps(cells["details"], ensure_ascii=False)
        yield [cells[column] for column in CSV_COLUMNS]


class AuditEventListView(GenericAPIView):
    """The audit trail, newest first. Reading it is itself audited (`audit.read`)."""

    permission_classes = [RoleOrScope]
    roles = {"GET": TRAIL_READERS}
    no_key_reason = "The audit trail is for bureau staff; no key scope grants it."
    serializer_class = AuditEventOutput
    filterset_class = AuditEventFilter
    pagination_class = AuditCursorPagination

    def get_queryset(self):
        return audit_events()

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"])],
        responses=AuditEventOutput(many=True),
    )
    def get(self, request):
        fmt = request.query_params.get("format", "json")
        if fmt not in ("json", "csv"):
            raise ValidationFailed(errors={"format": [_("Must be json or csv.")]})
        events = self.filter_queryset(self.get_queryset())  # 400 on a bad filter
        if fmt == "json":
            self.paginator.decode_cursor(request)  # 404 on a bad cursor, unread
        events = audit_trail_read(
            actor=request.user,
            events=events,
            details={"filters": _recorded_filters(request.query_params), "format": fmt},
        )
        if fmt == "csv":
            rows = events.order_by("-sequence").values_list(*_CSV_FIELDS)
            return csv_response(
                "audit-events.csv",
                CSV_COLUMNS,
                _csv_rows(rows.iterator(chunk_size=5000)),
            )
        page = self.paginate_queryset(events)
        return self.get_paginated_response(AuditEventOutput(page, many=True).data)
