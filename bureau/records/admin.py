"""Bureau staff views of batches and records. Records are read-only here: they change
only through furnished batches (and, later, disputes)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext

from bureau.core.admin import ReadOnlyAdmin
from bureau.records.models import (
    Batch,
    BatchError,
    Dispute,
    Record,
    Subject,
    SubjectStatement,
)


class BatchErrorInline(admin.TabularInline):
    model = BatchError
    fields = ("row", "column", "code", "message", "value")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("row")[:200]


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "member",
        "status",
        "original_name",
        "rows_total",
        "rows_rejected",
        "records_created",
        "records_updated",
        "received_at",
        "finished_at",
    ]
    list_filter = ["status", "member", "validate_only", "strict"]
    search_fields = ["original_name", "sha256", "idempotency_key"]
    date_hierarchy = "received_at"
    list_select_related = ["member"]


@admin.register(Subject)
class SubjectAdmin(ReadOnlyAdmin):
    list_display = ["id", "id_type", "id_masked", "name", "key_version", "created_at"]
    list_filter = ["id_type", "key_version"]
    search_fields = ["id_masked", "name"]


@admin.register(Record)
class RecordAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "member",
        "subject",
        "account_no",
        "status",
        "days_overdue",
        "amount_overdue",
        "as_of",
    ]
    list_filter = ["status", "member", "loan_type"]
    search_fields = ["account_no", "subject__id_masked"]
    list_select_related = ["member", "subject"]
    raw_id_fields = ["subject", "batch"]


# Disputes and statements change only through their services (audited); the admin
# shows them.
class DisputeOpenForm(forms.ModelForm):
    """Compliance opens a dispute from the admin: the record and the claim. Saving
    goes through dispute_open (its checks, locking and audit)."""

    class Meta:
        model = Dispute
        fields = ["record", "claim"]

    def clean(self):
        cleaned = super().clean()
        record = cleaned.get("record")
        if (
            record
            and Dispute.objects.filter(
                record=record, status=Dispute.Status.OPEN
            ).exists()
        ):
            raise forms.ValidationError(
                gettext("This record already has an open dispute.")
            )
        return cleaned


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    add_form = DisputeOpenForm

    def has_add_permission(self, request):
        # Opening disputes is compliance's work (the service checks it again).
        user = request.user
        return user.is_superuser or getattr(user, "role", "") == "compliance"

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else super().get_readonly_fields(request, obj)

    def get_fields(self, request, obj=None):
        return ["record", "claim"] if obj is None else super().get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        from bureau.records.services.disputes import dispute_open

        opened = dispute_open(
            record=form.cleaned_data["record"],
            claim=form.cleaned_data["claim"],
            actor=request.user,
        )
        obj.pk = opened.pk

    list_display = [
        "id",
        "member",
        "record",
        "status",
        "opened_at",
        "due_at",
        "answered_at",
        "suppressed_at",
    ]
    list_filter = ["status", "member"]
    search_fields = ["record__account_no", "subject__id_masked"]
    date_hierarchy = "opened_at"
    list_select_related = ["member", "record"]
    raw_id_fields = ["record", "subject"]


@admin.register(SubjectStatement)
class SubjectStatementAdmin(ReadOnlyAdmin):
    list_display = ["id", "subject", "created_at", "withdrawn_at"]
    search_fields = ["subject__id_masked"]
    list_select_related = ["subject"]
    raw_id_fields = ["subject"]
