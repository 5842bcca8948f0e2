from rest_framework import serializers

from bureau.core.fields import FormInput, StrictCharField
from reports.models import Screening, ScreeningResult
from reports.services.terms import CONSENT_MAX


class ScreeningCreateInput(FormInput):
    file = serializers.FileField(
        allow_empty_file=True,  # refused by the service with code empty_file
        help_text="CSV or JSON Lines (optionally gzip) of id_type, id_number, name; "
        "at most 100,000 persons.",
    )
    # Checked by the service, like a query's (one message for API and services).
    purpose = StrictCharField(
        max_length=64, required=False, allow_blank=True, default=""
    )
    consent_reference = StrictCharField(
        max_length=CONSENT_MAX, required=False, allow_blank=True, default=""
    )


class ScreeningOutput(serializers.ModelSerializer):
    member = serializers.CharField(source="member.code")
    persons_total = serializers.IntegerField(
        help_text="Persons screened so far (all of them once completed)."
    )

    class Meta:
        model = Screening
        fields = [
            "id", "member", "status", "progress", "purpose", "consent_reference",
            "format", "persons_total", "persons_found", "persons_blacklisted",
            "persons_invalid", "failure_reason", "created_at", "finished_at",
        ]  # fmt: skip


class ScreeningResultOutput(serializers.ModelSerializer):
    class Meta:
        model = ScreeningResult
        fields = [
            "line", "id_type", "id_masked", "found", "blacklisted",
            "platforms_with_overdue", "total_amount_overdue", "max_days_overdue",
            "error",
        ]  # fmt: skip
