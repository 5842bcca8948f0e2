from rest_framework import serializers

from bureau.audit.models import AuditEvent

CSV_COLUMNS = (
    "sequence",
    "created_at",
    "actor_type",
    "actor_label",
    "member",
    "action",
    "object_type",
    "object_id",
    "request_id",
    "ip",
    "details",
    "hash",
)


class AuditEventOutput(serializers.ModelSerializer):
    member = serializers.CharField(source="member.code", default=None, allow_null=True)

    class Meta:
        model = AuditEvent
        fields = list(CSV_COLUMNS)
