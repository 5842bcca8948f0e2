from rest_framework import serializers

from members.models import ApiKey, Member


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
    reason = serializers.CharField(max_length=500)


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
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ApiKey.Scope.choices), allow_empty=False
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    allowed_networks = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list
    )
