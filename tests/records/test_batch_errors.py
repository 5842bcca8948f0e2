"""`batch_errors_export`: the rejected rows as the API's and the page's CSV
download read them, audited once per download (`batch.errors_download`)."""

import pytest

from bureau.audit.models import AuditEvent
from bureau.records.services.batch_errors import ERRORS_CSV_COLUMNS, batch_errors_export
from tests.records.helpers import csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db


def test_export_when_filtered_by_column_audits_and_returns_those_rows(acme, alice):
    rows = [good_row(account_no="A-1", principal="x"), good_row(account_no="A-2",
            currency="??"), good_row(account_no="A-3")]  # fmt: skip
    batch = ingest(acme, csv_bytes(rows))

    exported = list(batch_errors_export(actor=alice, batch=batch, column="principal"))

    assert [
        dict(zip(ERRORS_CSV_COLUMNS, row, strict=True))["row"] for row in exported
    ] == [1]
    assert exported[0][ERRORS_CSV_COLUMNS.index("column")] == "principal"
    event = AuditEvent.objects.get(action="batch.errors_download")
    assert event.object_id == str(batch.pk) and event.member_id == acme.pk
