"""The furnisher's disputes page: what data subjects contest in the member's
records, with a form to confirm or correct each (bureau/records/services/
disputes.py does the work, as for PATCH /api/v1/disputes/{id}/).

Only the member's uploaders and member admins see it (as the API's furnisher
roles); another member's dispute is a 404. The subject's claim is shown: the
furnisher has to answer it. Like the API, every listing is audited.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from bureau.core.errors import Conflict, Forbidden, ValidationFailed
from bureau.core.roles import FURNISHER_ROLES
from bureau.records.columns import CORRECTABLE
from bureau.records.fileformat.validation import (
    CLASSIFICATIONS,
    LOAN_TYPES,
    ROLES,
    STATUSES,
)
from bureau.records.models import Dispute
from bureau.records.selectors import disputes_visible_to
from bureau.records.services.dispute_listing import furnisher_disputes_read
from bureau.records.services.disputes import (
    DUE_SOON_DAYS,
    NOTE_MAX,
    days_left,
    dispute_answer,
)
from web.access import member_of, role_required

CLOSED_SHOWN = 50

STATUS_LABELS = {
    "open": gettext_lazy("Open"),
    "corrected": gettext_lazy("Corrected"),
    "confirmed": gettext_lazy("Confirmed"),
    "withdrawn": gettext_lazy("Withdrawn"),
}


def _choices(values):
    return [(value, value) for value in values]


def _date_input():
    return forms.DateInput(attrs={"type": "date"})


def _decimal_input():
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})


class DisputeAnswerForm(forms.Form):
    """Confirm, or correct with new values. The values are plain text, checked by
    the service exactly like an upload row; its errors land on these fields
    (named after the upload columns)."""

    outcome = forms.ChoiceField(
        label=gettext_lazy("Answer"),
        choices=[
            ("confirmed", gettext_lazy("Confirmed: the record is right as it is")),
            ("corrected", gettext_lazy("Corrected: change the record as below")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=gettext_lazy("Note for the bureau"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # What a correction may change (CORRECTABLE in the service).
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=_choices(ROLES))
    loan_type = forms.ChoiceField(
        label=gettext_lazy("Loan type"), choices=_choices(LOAN_TYPES)
    )
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3)
    principal = forms.CharField(
        label=gettext_lazy("Principal"), max_length=20, widget=_decimal_input()
    )
    balance = forms.CharField(
        label=gettext_lazy("Balance"), max_length=20, widget=_decimal_input()
    )
    amount_overdue = forms.CharField(
        label=gettext_lazy("Amount overdue"), max_length=20, widget=_decimal_input()
    )
    days_overdue = forms.CharField(
        label=gettext_lazy("Days overdue"),
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=_choices(STATUSES))
    classification = forms.ChoiceField(
        label=gettext_lazy("Classification"),
        choices=[
            ("", gettext_lazy("(derive from days overdue)")),
            *_choices(CLASSIFICATIONS),
        ],
        required=False,
    )
    opened_on = forms.CharField(label=gettext_lazy("Opened on"), widget=_date_input())
    due_on = forms.CharField(
        label=gettext_lazy("Due on"), required=False, widget=_date_input()
    )
    first_delinquency_on = forms.CharField(
        label=gettext_lazy("First delinquency on"),
        required=False,
        widget=_date_input(),
    )
    as_of = forms.CharField(label=gettext_lazy("As of"), widget=_date_input())
    payment_history = forms.CharField(
        label=gettext_lazy("Payment history"),
        required=False,
        max_length=24,
        help_text=gettext_lazy(
            "Optional: newest month first, as in an upload "
            "(N, 1–7, C, G, D, Z, #, *, /)."
        ),
    )

    # The upload columns a correction may change, from the column spec.
    VALUE_FIELDS = CORRECTABLE

    def __init__(self, *args, record, **kwargs):
        self.record = record
        kwargs.setdefault("initial", self.on_file(record))
        super().__init__(*args, **kwargs)

    @classmethod
    def on_file(cls, record) -> dict[str, str]:
        """The record's values as the form shows them (upload-row text)."""
        values = {}
        for name in cls.VALUE_FIELDS:
            value = getattr(record, name, None)
            values[name] = "" if value is None else str(value)
        values["payment_history"] = ""  # not stored as a string: only sent anew
        return values

    def changed_values(self) -> dict[str, str]:
        """The columns whose text differs from the record on file."""
        on_file = self.on_file(self.record)
        return {
            name: self.cleaned_data[name].strip()
            for name in self.VALUE_FIELDS
            if name in self.cleaned_data
            and self.cleaned_data[name].strip() != on_file[name]
        }

    def clean(self):
        cleaned = super().clean()
        outcome = cleaned.get("outcome")
        if self.errors:
            return cleaned
        changed = self.changed_values()
        if outcome == "confirmed" and changed:
            raise forms.ValidationError(
                _(
                    "You changed some values: choose “Corrected” to send them, "
                    "or undo the changes to confirm the record as it is."
                )
            )
        if outcome == "corrected" and not changed:
            raise forms.ValidationError(
                _("Change at least one value to correct the record.")
            )
        return cleaned

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """The service's errors ("values.principal", "note", ...) on our fields."""
        for key, problems in errors.items():
            name = key.removeprefix("values.")
            target = name if name in self.fields else None
            for problem in problems:
                self.add_error(target, problem)

    @property
    def corrected_chosen(self) -> bool:
        return self.is_bound and self.data.get(self.add_prefix("outcome")) == (
            "corrected"
        )

    def value_fields(self):
        return [self[name] for name in self.VALUE_FIELDS]


def _form_for(dispute: Dispute, data=None) -> DisputeAnswerForm:
    return DisputeAnswerForm(data, record=dispute.record, prefix=f"d{dispute.pk}")


def _render(request, member, *, bound=None, bound_id=None, status=200):
    listing = furnisher_disputes_read(
        actor=request.user, member=member, closed_limit=CLOSED_SHOWN
    )
    now = timezone.now()
    open_disputes, closed = listing.open, listing.closed
    for dispute in open_disputes:
        dispute.days_left = days_left(dispute, now=now)
        dispute.due_soon = dispute.days_left <= DUE_SOON_DAYS
        dispute.overdue = dispute.due_at <= now
        is_bound = bound is not None and dispute.pk == bound_id
        dispute.form = bound if is_bound else _form_for(dispute)
    for dispute in [*open_disputes, *closed]:
        dispute.status_label = STATUS_LABELS.get(dispute.status, dispute.status)
    return render(
        request,
        "web/disputes/list.html",
        {
            "current": [d for d in open_disputes if not d.overdue],
            "overdue": [d for d in open_disputes if d.overdue],
            "open_disputes": open_disputes,
            "closed": closed,
            "closed_shown": CLOSED_SHOWN,
            "bound": bound,
        },
        status=status,
    )


@role_required(*FURNISHER_ROLES)
def disputes(request):
    return _render(request, member_of(request))


@role_required(*FURNISHER_ROLES)
@require_POST
def dispute_answer_page(request, dispute_id: int):
    member = member_of(request)
    dispute = get_object_or_404(disputes_visible_to(member=member), pk=dispute_id)
    if dispute.status != Dispute.Status.OPEN:
        messages.error(request, _("This dispute was already answered."))
        return redirect("web:disputes")
    form = _form_for(dispute, request.POST)
    if form.is_valid():
        outcome = form.cleaned_data["outcome"]
        try:
            dispute_answer(
                dispute=dispute,
                outcome=outcome,
                values=form.changed_values() if outcome == "corrected" else None,
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc.errors)
        except Conflict:
            messages.error(request, _("This dispute was already answered."))
            return redirect("web:disputes")
        except Forbidden as exc:
            raise PermissionDenied(exc.detail) from exc
        else:
            messages.success(
                request,
                _("Dispute on account %(account)s answered: %(outcome)s.")
                % {
                    "account": dispute.record.account_no,
                    "outcome": STATUS_LABELS[outcome],
                },
            )
            return redirect("web:disputes")
    return _render(request, member, bound=form, bound_id=dispute.pk, status=400)
