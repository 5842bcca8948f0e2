from rest_framework import serializers

from members.models import ApiKey, Member


class MemberOutput(serializers.ModelSerializer):
    class Meta:
        model = Member
        fields = ["code", "name", "kind", "status", "contributes_since"]


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
        ]


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
