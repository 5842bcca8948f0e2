"""The export of a batch's rejected rows, audited in one place for the API
(`GET /api/v1/batches/{id}/errors/?format=csv`) and the uploader's page."""

from __future__ import annotations

from django.db.models import QuerySet

from bureau.audit.services import audit_record
from bureau.core.actors import ActorLike
from bureau.records.models import Batch
from bureau.records.selectors import batch_errors

ERRORS_CSV_COLUMNS = ("row", "column", "code", "message", "value")


def batch_errors_export(
    *,
    actor: ActorLike,
    batch: Batch,
    code: str | None = None,
    column: str | None = None,
) -> QuerySet:
    """The batch's rejected rows under the filters, as ERRORS_CSV_COLUMNS tuples
    (messages stored in English: the caller localises them); the download is
    audited (`batch.errors_download`)."""
    audit_record(
        actor=actor,
        action="batch.errors_download",
        obj=batch,
        member=batch.member_id,
    )
    errors = batch_errors(batch=batch, code=code, column=column)
    return errors.values_list(*ERRORS_CSV_COLUMNS)
