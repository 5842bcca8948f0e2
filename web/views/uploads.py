"""Uploader pages: the member's batches, an upload form, a batch's progress and its
rejected rows. Reads go through bureau.records.selectors, writes through
bureau.records.services.upload; these views only translate between HTTP and them."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from bureau.core.csv import csv_response
from bureau.core.errors import BureauError
from bureau.core.roles import FURNISHER_ROLES
from bureau.records.fileformat import messages as row_messages
from bureau.records.models import Batch
from bureau.records.selectors import batch_errors, batches_visible_to
from bureau.records.services.batch_errors import (
    ERRORS_CSV_COLUMNS,
    batch_errors_export,
)
from bureau.records.services.upload import batch_create
from web.access import member_of, role_required
from web.forms_uploads import (
    STATUS_LABELS,
    BatchFilterForm,
    ErrorFilterForm,
    UploadForm,
)

BATCHES_PER_PAGE = 25
ERRORS_PER_PAGE = 50
ERRORS_CSV_HEADER = list(ERRORS_CSV_COLUMNS)


def _error_filters(request) -> tuple[ErrorFilterForm, dict, dict]:
    """The page's code/column filters: (form, the filters that applied, them as
    the selector's arguments)."""
    form = ErrorFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    arguments = {
        "code": filters.get("code") or None,
        "column": filters.get("column") or None,
    }
    return form, filters, arguments


def _filtered_errors(request, batch: Batch):
    """The batch's rejected rows under the page's code/column filters: (form,
    the filters that applied, the errors)."""
    form, filters, arguments = _error_filters(request)
    return form, filters, batch_errors(batch=batch, **arguments)


def _localized(error):
    error.message = row_messages.localize(error.message, gettext)
    return error


def _batch(request, batch_id: int) -> Batch:
    """One of the user's member's batches; anyone else's is a 404."""
    return get_object_or_404(batches_visible_to(member=member_of(request)), pk=batch_id)


@role_required(*FURNISHER_ROLES)
@require_GET
def batch_list(request):
    form = BatchFilterForm(request.GET or None)
    batches = batches_visible_to(member=member_of(request))
    if form.is_valid() and form.cleaned_data["status"]:
        batches = batches.filter(status=form.cleaned_data["status"])
    page = Paginator(batches, BATCHES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/uploads/batch_list.html",
        {"form": form, "page": page, "status_labels": STATUS_LABELS},
    )


@role_required(*FURNISHER_ROLES)
@require_http_methods(["GET", "POST"])
def batch_upload(request):
    member = member_of(request)
    refusal, status = None, 200
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch, created = batch_create(
                    member=member,
                    handle=upload.file,
                    filename=upload.name or "upload",
                    content_type=upload.content_type,
                    encoding=form.cleaned_data["encoding"],
                    validate_only=form.cleaned_data["validate_only"],
                    strict=form.cleaned_data["strict"],
                    actor=request.user,
                )
            except BureauError as exc:
                refusal = {
                    "code": exc.code,
                    "detail": row_messages.localize(exc.detail, gettext),
                    "errors": sorted(
                        row_messages.localize_errors(exc.errors, gettext).items()
                    ),
                }
                status = exc.status_code
            else:
                if created:
                    messages.success(request, _("File received; it is being checked."))
                else:
                    messages.info(
                        request,
                        _("This file was uploaded before; here is that batch."),
                    )
                return redirect("web:batch-detail", batch_id=batch.pk)
        else:
            status = 400
    else:
        form = UploadForm()
    return render(
        request,
        "web/uploads/upload.html",
        {"form": form, "refusal": refusal},
        status=status,
    )


def _live_context(request, batch: Batch) -> dict:
    """What the detail page and its polled partial show."""
    context = {
        "batch": batch,
        "failure_reason": row_messages.localize_reason(batch.failure_reason, gettext),
        "status_label": STATUS_LABELS.get(batch.status, batch.status),
        "percent": round(batch.progress * 100),
        "duration": None,
    }
    if batch.started_at and batch.finished_at:
        context["duration"] = (batch.finished_at - batch.started_at).total_seconds()
    if not batch.is_final:
        return context
    form, filters, errors = _filtered_errors(request, batch)
    csv_params = QueryDict(mutable=True)
    csv_params.update({k: v for k, v in filters.items() if v})
    csv_url = reverse("web:batch-errors-csv", kwargs={"batch_id": batch.pk})
    errors_page = Paginator(errors, ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    # Stored in English; shown in the page's language.
    errors_page.object_list = [_localized(error) for error in errors_page.object_list]
    context.update(
        error_form=form,
        errors_page=errors_page,
        errors_csv_url=f"{csv_url}?{csv_params.urlencode()}" if csv_params else csv_url,
    )
    return context


@role_required(*FURNISHER_ROLES)
@require_GET
def batch_detail(request, batch_id: int):
    batch = _batch(request, batch_id)
    return render(
        request, "web/uploads/batch_detail.html", _live_context(request, batch)
    )


@role_required(*FURNISHER_ROLES)
@require_GET
def batch_progress(request, batch_id: int):
    """The live part of the detail page, polled by htmx every second while the
    batch runs; once final it comes back without the trigger, so polling stops."""
    batch = _batch(request, batch_id)
    return render(
        request, "web/uploads/_batch_live.html", _live_context(request, batch)
    )


@role_required(*FURNISHER_ROLES)
@require_GET
def batch_errors_csv(request, batch_id: int):
    """The rejected rows as CSV: the same file, filters and audit as the API's
    GET /api/v1/batches/{id}/errors/?format=csv."""
    batch = _batch(request, batch_id)
    _, _, arguments = _error_filters(request)
    rows = batch_errors_export(actor=request.user, batch=batch, **arguments)
    return csv_response(
        f"batch-{batch.pk}-errors.csv",
        ERRORS_CSV_HEADER,
        row_messages.localize_rows(
            rows.iterator(chunk_size=5000),
            gettext,
            column=ERRORS_CSV_HEADER.index("message"),
        ),
    )
