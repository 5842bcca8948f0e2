from django.utils.translation import gettext
from rest_framework import serializers

from bureau.core.fields import FormInput, StrictCharField
from bureau.records.fileformat import messages
from bureau.records.models import Batch, BatchError
from members.models import User


class BatchCreateInput(FormInput):
    file = serializers.FileField(
        allow_empty_file=True,  # refused by the service with code empty_file
        help_text="CSV or JSON Lines, optionally gzip-compressed.",
    )
    format = serializers.ChoiceField(choices=["csv", "jsonl"], required=False)
    encoding = serializers.ChoiceField(choices=["utf-8", "gbk"], required=False)
    validate_only = serializers.BooleanField(
        default=False, help_text="Check and report every row; write no record."
    )
    strict = serializers.BooleanField(
        default=False,
        help_text="Refuse the whole batch when rows fail (see max ratio).",
    )


class RowMessageField(serializers.CharField):
    """A stored check message (English) in the request's language: under /api/
    the Accept-Language header, else English (bureau/core/api_middleware.py)."""

    def to_representation(self, value) -> str:
        return messages.localize(str(value), gettext)


class FailureReasonField(serializers.CharField):
    """A batch's failure_reason in the request's language; a refused file's code
    stays as it is ("encoding: …")."""

    def to_representation(self, value) -> str:
        return messages.localize_reason(str(value), gettext)


class BatchOutput(serializers.ModelSerializer):
    member = serializers.CharField(source="member.code")
    failure_reason = FailureReasonField(
        read_only=True,
        help_text="Why a failed batch failed: `<code>: <detail>` for a refused "
        "file; the text in the request's language (Accept-Language).",
    )
    duration_seconds = serializers.SerializerMethodField()
    batches_ahead = serializers.IntegerField(
        read_only=True,
        default=0,
        help_text="While `received`: how many of your earlier batches are applied "
        "before this one (a member's batches are applied in upload order); 0 once "
        "it runs.",
    )

    class Meta:
        model = Batch
        fields = [
            "id",
            "member",
            "status",
            "batches_ahead",
            "progress",
            "original_name",
            "format",
            "encoding",
            "size_bytes",
            "sha256",
            "validate_only",
            "strict",
            "rows_total",
            "rows_accepted",
            "rows_rejected",
            "rows_duplicate",
            "rows_stale",
            "rows_unchanged",
            "records_created",
            "records_updated",
            "records_deleted",
            "subjects_touched",
            "failure_reason",
            "received_at",
            "started_at",
            "finished_at",
            "duration_seconds",
        ]

    def get_duration_seconds(self, batch: Batch) -> float | None:
        if batch.started_at and batch.finished_at:
            return round((batch.finished_at - batch.started_at).total_seconds(), 3)
        return None


class BatchErrorOutput(serializers.ModelSerializer):
    message = RowMessageField(
        read_only=True,
        help_text="For people, in the request's language (Accept-Language); "
        "`code` is the stable one to act on.",
    )

    class Meta:
        model = BatchError
        fields = ["row", "column", "code", "message", "value"]


class BatchShareInput(serializers.Serializer):
    """`username` names a user of the caller's own member; other members' users are
    not looked up, so the answer never reveals who exists elsewhere."""

    username = StrictCharField(max_length=150)

    def validate_username(self, value: str) -> User:
        user = User.objects.filter(
            member=self.context["member"], username=value
        ).first()
        if user is None:
            raise serializers.ValidationError("No user of your member has this name.")
        return user


class BatchShareOutput(serializers.Serializer):
    batch = serializers.IntegerField(source="batch.pk")
    username = serializers.CharField(source="user.username")
    permission = serializers.CharField()
