"""Data-subject rights over the API, the records' part: disputes and subject
statements (who looked a subject up and the self-report are reports':
reports/api/subject_views.py).

Compliance acts for the subject (a borrower never logs in); the furnisher answers
its disputes; bureau admins and auditors read. Reads of personal data are audited
(by the services, services/subject_rights.py).
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from bureau.core.errors import ValidationFailed
from bureau.core.fields import StrictCharField
from bureau.core.permissions import RoleOrScope
from bureau.core.roles import (
    BUREAU_ROLES,
    COMPLIANCE,
    DISPUTE_ANSWERERS,
    DISPUTE_READERS,
)
from bureau.records.models import Dispute, Subject, SubjectStatement
from bureau.records.selectors import subject_get
from bureau.records.services.disputes import days_left, dispute_answer
from bureau.records.services.statements import statement_add
from bureau.records.services.subject_rights import (
    dispute_get,
    dispute_open_on,
    dispute_read,
    disputes_list,
    statements_list,
)
from members.permissions import actor_member

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


# -- views ----------------------------------------------------------------------


class DisputeBaseView(GenericAPIView):
    permission_classes = [RoleOrScope]
    # The model, for the schema generator only: rows come from the services.
    queryset = Dispute.objects.none()

    def output(self, disputes, **kwargs):
        return DisputeOutput(disputes, context={"now": timezone.now()}, **kwargs).data


class DisputeListCreateView(DisputeBaseView):
    """Compliance opens a dispute on a record; readers list disputes. A furnisher
    sees its open disputes (with `days_left`); bureau staff see all, `?status=`."""

    roles = {"GET": DISPUTE_READERS, "POST": COMPLIANCE}
    scopes = {"GET": "upload"}  # the furnisher's systems read
    no_key_reason = "Disputes are opened by compliance staff."

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
        page = disputes_list(
            actor=request.user,
            member=member,
            status=wanted,
            paginate=self.paginate_queryset,
        )
        return self.get_paginated_response(self.output(page, many=True))

    @extend_schema(request=DisputeOpenInput, responses={201: DisputeOutput})
    def post(self, request):
        data = DisputeOpenInput(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = dispute_open_on(
            actor=request.user,
            member=actor_member(request),
            record_id=data.validated_data["record_id"],
            claim=data.validated_data["claim"],
        )
        return Response(self.output(dispute), status=status.HTTP_201_CREATED)


class DisputeDetailView(DisputeBaseView):
    """One dispute; PATCH answers it (the furnisher: corrected or confirmed;
    compliance: withdrawn)."""

    roles = {"GET": DISPUTE_READERS, "PATCH": DISPUTE_ANSWERERS}
    scopes = {"GET": "upload", "PATCH": "upload"}  # the furnisher's systems answer

    def get_dispute(self, dispute_id: int) -> Dispute:
        return dispute_get(member=actor_member(self.request), dispute_id=dispute_id)

    @extend_schema(responses=DisputeOutput)
    def get(self, request, dispute_id: int):
        dispute = dispute_read(
            actor=request.user, member=actor_member(request), dispute_id=dispute_id
        )
        return Response(self.output(dispute))

    @extend_schema(request=DisputeAnswerInput, responses=DisputeOutput)
    def patch(self, request, dispute_id: int):
        dispute = self.get_dispute(dispute_id)  # 404 before the body's 400
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
    roles = {"GET": BUREAU_ROLES}
    no_key_reason = "A subject's file is for bureau staff; no key scope grants it."
    # The model, for the schema generator only: the subject comes from
    # `subject_get`.
    queryset = Subject.objects.none()

    def get_subject(self, subject_id: int) -> Subject:
        return subject_get(subject_id=subject_id)


class SubjectStatementsView(SubjectBaseView):
    """A subject's statements (shown on every report); compliance adds one."""

    roles = {"GET": BUREAU_ROLES, "POST": COMPLIANCE}

    @extend_schema(responses=StatementOutput(many=True))
    def get(self, request, subject_id: int):
        page = statements_list(
            actor=request.user,
            subject=self.get_subject(subject_id),
            paginate=self.paginate_queryset,
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
