"""`/api/v1/alerts/`: misuse alerts, for compliance, bureau admins and auditors.

Reading alerts is audited (`alert.read`); acknowledging or dismissing one is
audited by the service (`alert.update`).
"""

from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from bureau.audit.misuse import alert_read, alert_update
from bureau.audit.models import Alert
from bureau.audit.selectors import alerts_all
from bureau.audit.services import redact_identity
from bureau.core.fields import StrictCharField
from bureau.core.permissions import RoleOrScope
from bureau.core.roles import BUREAU_ROLES, DECISION_ROLES

_FILTERS = ("rule", "status", "member")


class AlertFilter(django_filters.FilterSet):
    rule = django_filters.MultipleChoiceFilter(choices=Alert.Rule.choices)
    status = django_filters.MultipleChoiceFilter(choices=Alert.Status.choices)
    member = django_filters.CharFilter(field_name="member__code", help_text="Code.")

    class Meta:
        model = Alert
        fields = list(_FILTERS)


class AlertOutput(serializers.ModelSerializer):
    member = serializers.CharField(source="member.code", default=None, allow_null=True)
    api_key = serializers.CharField(
        source="api_key.display", default=None, allow_null=True
    )
    handled_by = serializers.CharField(
        source="handled_by.username", default=None, allow_null=True
    )

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "severity",
            "status",
            "member",
            "api_key",
            "window_start",
            "window_end",
            "evidence",
            "note",
            "handled_by",
            "handled_at",
            "created_at",
        ]


class AlertUpdateInput(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[Alert.Status.ACKNOWLEDGED, Alert.Status.DISMISSED]
    )
    note = StrictCharField(
        max_length=1000, required=False, allow_blank=True, default=""
    )


class AlertBaseView(GenericAPIView):
    permission_classes = [RoleOrScope]
    roles = {"GET": BUREAU_ROLES}
    no_key_reason = "No key scope grants alerts: bureau staff only."
    serializer_class = AlertOutput

    def get_queryset(self):
        return alerts_all()


class AlertListView(AlertBaseView):
    """Misuse alerts, newest first; `?rule=`, `?status=`, `?member=<code>`."""

    filterset_class = AlertFilter

    @extend_schema(responses=AlertOutput(many=True))
    def get(self, request):
        alerts = self.filter_queryset(self.get_queryset())  # 400 on a bad filter
        params = request.query_params
        alert_read(
            actor=request.user,
            filters={
                name: redact_identity(",".join(params.getlist(name)))
                for name in _FILTERS
                if name in params
            },
        )
        page = self.paginate_queryset(alerts)
        return self.get_paginated_response(AlertOutput(page, many=True).data)


class AlertDetailView(AlertBaseView):
    """One alert; PATCH acknowledges or dismisses it with a note."""

    # Bureau staff read; compliance and bureau admins handle (auditors never do).
    roles = {"GET": BUREAU_ROLES, "PATCH": DECISION_ROLES}

    @extend_schema(responses=AlertOutput)
    def get(self, request, alert_id: int):
        alert = get_object_or_404(self.get_queryset(), pk=alert_id)
        alert_read(actor=request.user, alert=alert)
        return Response(AlertOutput(alert).data)

    @extend_schema(request=AlertUpdateInput, responses=AlertOutput)
    def patch(self, request, alert_id: int):
        data = AlertUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        alert_update(alert_id=alert_id, actor=request.user, **data.validated_data)
        alert = get_object_or_404(self.get_queryset(), pk=alert_id)
        return Response(AlertOutput(alert).data)
