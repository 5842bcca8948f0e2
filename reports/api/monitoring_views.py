"""Monitoring (scope `monitor`): watches on persons and the webhooks alerts go to."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from bureau.core.fields import StrictCharField
from bureau.core.permissions import RoleOrScope
from bureau.core.roles import MEMBER_ADMINS, WATCHERS
from bureau.records.models import ID_TYPES
from members.permissions import actor_member
from reports.models import Watch, Webhook, WebhookEvent
from reports.selectors import watches_of_member, webhooks_of_member
from reports.services import watches as watch_service
from reports.services import webhooks as webhook_service
from reports.services.terms import CONSENT_MAX

# -- serializers (input checked again by the services, one message for both) ----------


class WatchCreateInput(serializers.Serializer):
    id_type = serializers.ChoiceField(choices=ID_TYPES)
    id_number = StrictCharField(max_length=64, trim_whitespace=True)
    name = StrictCharField(max_length=100)
    consent_reference = StrictCharField(
        max_length=CONSENT_MAX,
        help_text="The borrower's consent to monitoring (1–64).",
    )


class WatchOutput(serializers.ModelSerializer):
    id_type = serializers.CharField(source="subject.id_type")
    id_masked = serializers.CharField(source="subject.id_masked")
    name = serializers.CharField(source="subject.name")

    class Meta:
        model = Watch
        fields = ["id", "id_type", "id_masked", "name", "consent_reference",
                  "created_at"]  # fmt: skip


class WebhookCreateInput(serializers.Serializer):
    url = StrictCharField(max_length=webhook_service.URL_MAX)
    events = serializers.ListField(
        child=StrictCharField(max_length=64),
        max_length=10,
        help_text="Any of: " + ", ".join(WebhookEvent.values) + ".",
    )


class WebhookOutput(serializers.ModelSerializer):
    # As given (http or https, a host): not always an RFC 3986 URI.
    url = serializers.CharField()

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "active", "created_at"]


class WebhookCreatedOutput(WebhookOutput):
    secret = serializers.CharField(
        help_text="Signs every delivery; shown in this response only."
    )

    class Meta(WebhookOutput.Meta):
        fields = [*WebhookOutput.Meta.fields, "secret"]


# -- views -----------------------------------------------------------------------------


class MonitorView(GenericAPIView):
    permission_classes = [RoleOrScope]


class WatchBaseView(MonitorView):
    serializer_class = WatchOutput

    def get_queryset(self):
        return watches_of_member(member=actor_member(self.request))


class WatchListCreateView(WatchBaseView):
    """Watch a person (the identity checks of a query; a miss is a 404), or list
    your live watches, newest first."""

    roles = {"GET": WATCHERS, "POST": WATCHERS}
    scopes = {"GET": "monitor", "POST": "monitor"}

    @extend_schema(responses=WatchOutput(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WatchOutput(page, many=True).data)

    @extend_schema(
        request=WatchCreateInput, responses={201: WatchOutput, 404: dict, 409: dict}
    )
    def post(self, request):
        data = WatchCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        watch = watch_service.watch_create(
            actor=request.user,
            member=actor_member(request),
            data=watch_service.WatchInput(**data.validated_data),
        )
        return Response(WatchOutput(watch).data, status=status.HTTP_201_CREATED)


class WatchDetailView(WatchBaseView):
    roles = {"GET": WATCHERS, "DELETE": WATCHERS}
    scopes = {"GET": "monitor", "DELETE": "monitor"}

    @extend_schema(responses=WatchOutput)
    def get(self, request, watch_id: int):
        watch = get_object_or_404(self.get_queryset(), pk=watch_id)
        return Response(WatchOutput(watch).data)

    @extend_schema(responses={204: None})
    def delete(self, request, watch_id: int):
        watch = get_object_or_404(self.get_queryset(), pk=watch_id)
        watch_service.watch_delete(actor=request.user, watch=watch)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookBaseView(MonitorView):
    serializer_class = WebhookOutput

    def get_queryset(self):
        return webhooks_of_member(member=actor_member(self.request))


class WebhookListCreateView(WebhookBaseView):
    """Register an endpoint for profile.changed / batch.completed deliveries (the
    signing secret is in this response only), or list your webhooks."""

    roles = {"GET": MEMBER_ADMINS, "POST": MEMBER_ADMINS}
    scopes = {"GET": "monitor", "POST": "monitor"}

    @extend_schema(responses=WebhookOutput(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookOutput(page, many=True).data)

    @extend_schema(request=WebhookCreateInput, responses={201: WebhookCreatedOutput})
    def post(self, request):
        data = WebhookCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        webhook, secret = webhook_service.webhook_create(
            actor=request.user, member=actor_member(request), **data.validated_data
        )
        webhook.secret = secret
        return Response(
            WebhookCreatedOutput(webhook).data, status=status.HTTP_201_CREATED
        )


class WebhookDetailView(WebhookBaseView):
    roles = {"GET": MEMBER_ADMINS, "DELETE": MEMBER_ADMINS}
    scopes = {"GET": "monitor", "DELETE": "monitor"}

    @extend_schema(responses=WebhookOutput)
    def get(self, request, webhook_id: int):
        webhook = get_object_or_404(self.get_queryset(), pk=webhook_id)
        return Response(WebhookOutput(webhook).data)

    @extend_schema(responses={204: None})
    def delete(self, request, webhook_id: int):
        webhook = get_object_or_404(self.get_queryset(), pk=webhook_id)
        webhook_service.webhook_delete(actor=request.user, webhook=webhook)
        return Response(status=status.HTTP_204_NO_CONTENT)
