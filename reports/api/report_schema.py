"""The query answer's shape, for the OpenAPI schema only: the answer itself is
built by `reports.services.report.build_report`. A test validates real answers
(a member's and bureau staff's) against this schema, so the two cannot drift
unnoticed."""

from typing import Any

from rest_framework import serializers

from bureau.records.history import GRID_MONTHS

_AMOUNT: dict[str, Any] = {"max_digits": 18, "decimal_places": 2}


class ReportSubject(serializers.Serializer):
    id_type = serializers.CharField()
    id_masked = serializers.CharField(help_text="e.g. 110105********002X")
    name = serializers.CharField()
    id = serializers.IntegerField(required=False, help_text="Bureau staff only.")


class ReportProfile(serializers.Serializer):
    platforms_total = serializers.IntegerField()
    platforms_with_overdue = serializers.IntegerField()
    accounts_total = serializers.IntegerField()
    accounts_overdue = serializers.IntegerField()
    guarantees_total = serializers.IntegerField()
    guarantees_overdue = serializers.IntegerField()
    total_principal = serializers.DecimalField(**_AMOUNT)
    total_balance = serializers.DecimalField(**_AMOUNT)
    total_amount_overdue = serializers.DecimalField(**_AMOUNT)
    max_days_overdue = serializers.IntegerField()
    worst_status = serializers.CharField(allow_blank=True)
    worst_classification = serializers.CharField(allow_blank=True)
    first_delinquency_on = serializers.DateField(allow_null=True)
    last_reported_on = serializers.DateField(allow_null=True)
    blacklisted = serializers.BooleanField()
    blacklist_reasons = serializers.ListField(
        child=serializers.CharField(),
        help_text="The blacklist clauses that fired: status, days_overdue, "
        "platforms_overdue.",
    )


class ReportAccount(serializers.Serializer):
    furnisher = serializers.CharField(
        help_text='"own", "platform A", "platform B"… (stable within one report); '
        "member codes for bureau staff."
    )
    own = serializers.BooleanField()
    role = serializers.CharField()
    loan_type = serializers.CharField()
    currency = serializers.CharField()
    principal = serializers.DecimalField(**_AMOUNT)
    balance = serializers.DecimalField(**_AMOUNT)
    amount_overdue = serializers.DecimalField(**_AMOUNT)
    days_overdue = serializers.IntegerField()
    status = serializers.CharField()
    classification = serializers.CharField()
    opened_on = serializers.DateField()
    due_on = serializers.DateField(allow_null=True)
    first_delinquency_on = serializers.DateField(allow_null=True)
    as_of = serializers.DateField()
    under_dispute = serializers.BooleanField()
    history = serializers.CharField(
        min_length=GRID_MONTHS,
        max_length=GRID_MONTHS,
        help_text=f"{GRID_MONTHS} months, newest first: the month's status code, "
        "'/' before the account opened, '#' unknown.",
    )
    account_no = serializers.CharField(
        required=False, help_text="Your own accounts (and bureau staff) only."
    )
    record_id = serializers.IntegerField(
        required=False, help_text="Bureau staff only: what POST /disputes/ takes."
    )


class ReportInquiryWindow(serializers.Serializer):
    count = serializers.IntegerField(help_text="Inquiries, this one excluded.")
    members = serializers.IntegerField(help_text="Distinct members that asked.")


class ReportInquiries(serializers.Serializer):
    last_1m = ReportInquiryWindow()
    last_3m = ReportInquiryWindow()
    last_6m = ReportInquiryWindow()


class ReportDispute(serializers.Serializer):
    furnisher = serializers.CharField()
    status = serializers.CharField()
    opened_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    claim = serializers.CharField(required=False, help_text="Bureau staff only.")
    record_id = serializers.IntegerField(required=False, help_text="Bureau staff only.")


class ReportStatement(serializers.Serializer):
    text = serializers.CharField()
    added_at = serializers.DateTimeField()


class ReportOutput(serializers.Serializer):
    """The answer to a query: one person across every platform."""

    inquiry_id = serializers.UUIDField(help_text="GET /queries/{inquiry_id}/report/")
    generated_at = serializers.DateTimeField()
    subject = ReportSubject()
    profile = ReportProfile()
    accounts = ReportAccount(many=True)
    inquiries = ReportInquiries()
    disputes = ReportDispute(many=True)
    statements = ReportStatement(many=True)
