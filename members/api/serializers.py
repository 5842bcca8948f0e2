from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bureau.core.fields import StrictCharField
from members.models import ApiKey, Member

_IPV4 = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 64,
        # IPv6 networks are taken too; this pattern says only what IPv4 looks like.
        "pattern": rf"^\s*({_IPV4}\.){{3}}{_IPV4}(/(3[0-2]|[12]?[0-9]))?\s*$",
    }
)
class NetworkField(StrictCharField):
    """A CIDR network, e.g. 203.0.113.0/24 (checked by the key service)."""


class MemberOutput(serializers.ModelSerializer):
    class Meta:
        model = Member
        fields = ["code", "name", "kind", "status", "contributes_since"]


class MemberStaffOutput(serializers.ModelSerializer):
    """A member as bureau staff see it: with its status reason."""

    class Meta:
        model = Member
        fields = [
            "code",
            "name",
            "kind",
            "status",
            "status_reason",
            "contributes_since",
            "created_at",
        ]


class MemberStatusInput(serializers.Serializer):
    reason = StrictCharField(max_length=500)


class MemberMeOutput(serializers.Serializer):
    member = MemberOutput()
    usage = serializers.DictField(child=serializers.IntegerField())


class ApiKeyOutput(serializers.ModelSerializer):
    display = serializers.CharField(read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "display",
            "scopes",
            "allowed_networks",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "rotated_from",
        ]
        read_only_fields = fields


class ApiKeyCreatedOutput(ApiKeyOutput):
    key = serializers.CharField(help_text="The full key. Shown this once only.")

    class Meta(ApiKeyOutput.Meta):
        fields = [*ApiKeyOutput.Meta.fields, "key"]


class ApiKeyCreateInput(serializers.Serializer):
    name = StrictCharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ApiKey.Scope.choices),
        allow_empty=False,
        min_length=1,
    )
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="In the future; none: never."
    )
    allowed_networks = serializers.ListField(
        child=NetworkField(max_length=64),
        required=False,
        default=list,
        help_text="CIDR networks the key may be used from (IPv4 or IPv6).",
    )
