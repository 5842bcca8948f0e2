"""Data-subject rights over the API: disputes, subject statements, who looked a
subject up, and the subject's self-report.

Compliance acts for the subject (a borrower never logs in); the furnisher answers
its disputes; bureau admins and auditors read. Reads of personal data are audited.
"""

from collections.abc import Collection

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from bureau.audit.services import audit_record
from bureau.core.errors import ValidationFailed
from bureau.core.fields import StrictCharField
from bureau.records.models import Dispute, Record, Subject, SubjectStatement
from bureau.records.services.disputes import (
    days_left,
    dispute_answer,
    dispute_open,
    disputes_visible_to,
)
from bureau.records.services.statements import statement_add
from members.models import BUREAU_ROLES, FURNISHER_ROLES, Role
from members.permissions import RoleOrScope, actor_member
from reports.services.self_report import inquiries_about, self_report_produce

BUREAU_READERS = BUREAU_ROLES
FURNISHERS = FURNISHER_ROLES
COMPLIANCE = (Role.COMPLIANCE,)


# -- serializers ----------------------------------------------------------------


class DisputeOpenInput(serializers.Serializer):
    record_id = serializers.IntegerField(min_value=1)
    claim = StrictCharField(max_length=Dispute._meta.get_field("claim").max_length)


class DisputeAnswerInput(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=["corrected", "confirmed", "withdrawn"],
        help_text="Furnisher: corrected (with values) or confirmed. "
        "Compliance: withdrawn.",
    )
    values = serializers.DictField(
        required=False,
        allow_empty=True,
        help_text="For corrected: the columns to change, as in an upload row.",
    )
    note = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=Dispute._meta.get_field("answer_note").max_length,
    )


class DisputeOutput(serializers.ModelSerializer):
    furnisher = serializers.CharField(source="member.code")
    account_no = serializers.CharField(source="record.account_no")
    record_suppressed = serializers.BooleanField(source="record.suppressed")
    subject = serializers.SerializerMethodField()
    days_left = serializers.SerializerMethodField()

    class Meta:
        model = Dispute
        fields = [
            "id",
            "record_id",
            "account_no",
            "furnisher",
            "subject",
            "claim",
            "status",
            "opened_at",
            "due_at",
            "days_left",
            "answered_at",
            "answer_note",
            "suppressed_at",
            "record_suppressed",
        ]

    def get_subject(self, dispute: Dispute) -> dict:
        return {
            "id": dispute.subject_id,
            "id_type": dispute.subject.id_type,
            "id_masked": dispute.subject.id_masked,
            "name": dispute.subject.name,
        }

    def get_days_left(self, dispute: Dispute) -> int | None:
        return days_left(dispute, now=self.context.get("now"))


class StatementInput(serializers.Serializer):
    # The length limit is the service's (a 400 naming the limit); not repeated here.
    text = StrictCharField(trim_whitespace=True)


class StatementOutput(serializers.ModelSerializer):
    added_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = SubjectStatement
        fields = ["id", "subject_id", "text", "added_at", "withdrawn_at"]


class SubjectInquiryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    member_code = serializers.CharField(source="member.code", default="")
    member_name = serializers.CharField(source="member.name", default="")
    by = serializers.SerializerMethodField()
    purpose = serializers.CharField()
    consent_reference = serializers.CharField()
    hit = serializers.BooleanField()

    def get_by(self, inquiry) -> str:
        if inquiry.api_key_id:
            return f"key:{inquiry.api_key.prefix}"
        if inquiry.user_id:
            return inquiry.user.get_username()
        return ""


# -- views ----------------------------------------------------------------------


class DisputeBaseView(GenericAPIView):
    permission_classes = [RoleOrScope]
    required_scope = "upload"  # the furnisher's systems read and answer
    allowed_roles = (*BUREAU_READERS, *FURNISHERS)

    def get_queryset(self):
        return disputes_visible_to(member=actor_member(self.request))

    def output(self, disputes, **kwargs):
        return DisputeOutput(disputes, context={"now": timezone.now()}, **kwargs).data


class DisputeListCreateView(DisputeBaseView):
    """Compliance opens a dispute on a record; readers list disputes. A furnisher
    sees its open disputes (with `days_left`); bureau staff see all, `?status=`."""

    def get_permissions(self):
        if self.request.method == "POST":
            self.required_scope = None
            self.no_key_reason = "Disputes are opened by compliance staff."
            self.allowed_roles = COMPLIANCE
        return super().get_permissions()

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=Dispute.Status.values)],
        responses=DisputeOutput(many=True),
    )
    def get(self, request):
        member = actor_member(request)
        wanted = request.query_params.get("status")  # given empty: refused
        if wanted is not None and wanted not in Dispute.Status.values:
            raise ValidationFailed(
                errors={
                    "status": [
                        _("Must be one of %(choices)s.")
                        % {"choices": ", ".join(Dispute.Status)}
                    ]
                }
            )
        if member is not None:
            wanted = Dispute.Status.OPEN  # what the furnisher must act on
        page = self.paginate_queryset(disputes_visible_to(member=member, status=wanted))
        audit_record(
            actor=request.user,
            action="dispute.list",
            object_type="records.dispute",
            member=member,
            details={"status": wanted, "shown": len(page)},
        )
        return self.get_paginated_response(self.output(page, many=True))

    @extend_schema(request=DisputeOpenInput, responses={201: DisputeOutput})
    def post(self, request):
        data = DisputeOpenInput(data=request.data)
        data.is_valid(raise_exception=True)
        record = Record.objects.filter(pk=data.validated_data["record_id"]).first()
        if record is None:
            raise ValidationFailed(errors={"record_id": [_("No such record.")]})
        dispute = dispute_open(
            record=record, claim=data.validated_data["claim"], actor=request.user
        )
        dispute = self.get_queryset().get(pk=dispute.pk)
        return Response(self.output(dispute), status=status.HTTP_201_CREATED)


class DisputeDetailView(DisputeBaseView):
    """One dispute; PATCH answers it (the furnisher: corrected or confirmed;
    compliance: withdrawn)."""

    def get_permissions(self):
        if self.request.method == "PATCH":
            self.allowed_roles = (*FURNISHERS, *COMPLIANCE)
        return super().get_permissions()

    def get_dispute(self, dispute_id: int) -> Dispute:
        return get_object_or_404(self.get_queryset(), pk=dispute_id)

    @extend_schema(responses=DisputeOutput)
    def get(self, request, dispute_id: int):
        dispute = self.get_dispute(dispute_id)
        audit_record(
            actor=request.user,
            action="dispute.view",
            obj=dispute,
            member=dispute.member_id,
        )
        return Response(self.output(dispute))

    @extend_schema(request=DisputeAnswerInput, responses=DisputeOutput)
    def patch(self, request, dispute_id: int):
        dispute = self.get_dispute(dispute_id)
        data = DisputeAnswerInput(data=request.data)
        data.is_valid(raise_exception=True)
        dispute_answer(
            dispute=dispute,
            outcome=data.validated_data["outcome"],
            values=data.validated_data.get("values"),
            note=data.validated_data.get("note", ""),
            actor=request.user,
        )
        return Response(self.output(self.get_dispute(dispute_id)))


class SubjectBaseView(GenericAPIView):
    """Bureau staff only, acting for the data subject."""

    permission_classes = [RoleOrScope]
    allowed_roles: Collection[str] = BUREAU_READERS
    no_key_reason = "A subject's file is for bureau staff; no key scope grants it."
    queryset = Subject.objects.all()

    def get_subject(self, subject_id: int) -> Subject:
        return get_object_or_404(self.get_queryset(), pk=subject_id)


class SubjectInquiriesView(SubjectBaseView):
    """Who looked this person up: every inquiry, hit or miss, members named."""

    serializer_class = SubjectInquiryOutput

    @extend_schema(responses=SubjectInquiryOutput(many=True))
    def get(self, request, subject_id: int):
        subject = self.get_subject(subject_id)
        inquiries = (
            inquiries_about(subject)
            .select_related("member", "user", "api_key")
            .order_by("-created_at")
        )
        page = self.paginate_queryset(inquiries)
        audit_record(
            actor=request.user,
            action="subject.inquiries_view",
            obj=subject,
            details={"shown": len(page or [])},  # paginated: a list
        )
        return self.get_paginated_response(SubjectInquiryOutput(page, many=True).data)


class SubjectStatementsView(SubjectBaseView):
    """A subject's statements (shown on every report); compliance adds one."""

    def get_permissions(self):
        if self.request.method == "POST":
            self.allowed_roles = COMPLIANCE
        return super().get_permissions()

    @extend_schema(responses=StatementOutput(many=True))
    def get(self, request, subject_id: int):
        subject = self.get_subject(subject_id)
        statements = SubjectStatement.objects.filter(subject=subject).order_by(
            "created_at", "id"
        )
        page = self.paginate_queryset(statements)
        audit_record(
            actor=request.user,
            action="statement.list",
            obj=subject,
            details={"shown": len(page or [])},  # paginated: a list
        )
        return self.get_paginated_response(StatementOutput(page, many=True).data)

    @extend_schema(request=StatementInput, responses={201: StatementOutput})
    def post(self, request, subject_id: int):
        subject = self.get_subject(subject_id)
        data = StatementInput(data=request.data)
        data.is_valid(raise_exception=True)
        statement = statement_add(
            subject=subject, text=data.validated_data["text"], actor=request.user
        )
        return Response(StatementOutput(statement).data, status=status.HTTP_201_CREATED)


class SelfReportView(SubjectBaseView):
    """The subject's self-report (compliance): all on file and every inquiry,
    members named; the third and later in a calendar year are chargeable."""

    allowed_roles = COMPLIANCE

    @extend_schema(request=None, responses={201: dict})
    def post(self, request, subject_id: int):
        report = self_report_produce(
            subject=self.get_subject(subject_id), actor=request.user
        )
        return Response(report, status=status.HTTP_201_CREATED)
