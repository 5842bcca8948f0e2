"""Forms of the uploads area: the upload itself and the list/error filters."""

from __future__ import annotations

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from bureau.records.fileformat import COLUMNS
from bureau.records.fileformat.errors import ROW_ERROR_CODES
from bureau.records.models import Batch

AUTO = "auto"

# Our own labels: the model's choice labels are not marked for translation.
STATUS_LABELS: dict[str, str | Promise] = {
    Batch.Status.RECEIVED: _("Received"),
    Batch.Status.PROCESSING: _("Processing"),
    Batch.Status.COMPLETED: _("Completed"),
    Batch.Status.COMPLETED_WITH_ERRORS: _("Completed with errors"),
    Batch.Status.FAILED: _("Failed"),
}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        # An empty file is refused by the service, with its own problem code.
        allow_empty_file=True,
        help_text=_("CSV or JSON Lines, optionally gzip-compressed (.gz)."),
        widget=forms.FileInput(
            attrs={"accept": ".csv,.jsonl,.gz,text/csv,application/gzip"}
        ),
    )
    encoding = forms.ChoiceField(
        label=_("Encoding"),
        choices=[(AUTO, _("Detect automatically")), ("utf-8", "UTF-8"), ("gbk", "GBK")],
        initial=AUTO,
        required=False,  # absent = detect
    )
    validate_only = forms.BooleanField(
        label=_("Validate only"),
        required=False,
        help_text=_("Check and report every row; write no record."),
    )
    strict = forms.BooleanField(
        label=_("Strict"),
        required=False,
        help_text=_("Refuse the whole batch when rows fail."),
    )

    def clean_encoding(self) -> str | None:
        value = self.cleaned_data["encoding"]
        return None if value in ("", AUTO) else value


class BatchFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *STATUS_LABELS.items()],
    )


class ErrorFilterForm(forms.Form):
    code = forms.ChoiceField(
        label=_("Problem code"),
        required=False,
        choices=[("", _("All")), *((code, code) for code in ROW_ERROR_CODES)],
    )
    column = forms.ChoiceField(
        label=_("Column"),
        required=False,
        choices=[("", _("All")), *((name, name) for name in COLUMNS)],
    )
