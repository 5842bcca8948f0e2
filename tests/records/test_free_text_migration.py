"""Migration 0006: free text stored before masking (claims, statements, rejected
values) is masked; an idempotency key holding an identity is cleared."""

import importlib

import pytest
from django.db import connection

from bureau.records.models import Batch, BatchError, Dispute, Record, SubjectStatement
from bureau.records.services.disputes import dispute_open
from bureau.records.services.statements import statement_add
from members.models import Role
from tests.factories import bureau_user
from tests.records.helpers import ID_A, PHONE, csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db
migration = importlib.import_module(
    "bureau.records.migrations.0006_mask_identity_in_free_text"
)


def _as_stored_before_masking(table: str, column: str, value: str, pk: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE id = %s",
            [value, pk],
        )


def _migrate() -> None:
    with connection.schema_editor() as editor:
        migration.mask_free_text(None, editor)


def test_free_text_when_migrated_masks_identities_and_keeps_the_rest(acme):
    carol = bureau_user("carol", Role.COMPLIANCE)
    batch = ingest(
        acme,
        csv_bytes(
            [good_row(account_no="A-1"), good_row(account_no="A-2", balance="x")]
        ),
    )
    record = Record.objects.get(member=acme)
    dispute = dispute_open(record=record, claim="Never borrowed.", actor=carol)
    statement = statement_add(subject=record.subject, text="Paid.", actor=carol)
    error = BatchError.objects.get(batch=batch)
    _as_stored_before_masking(
        "records_dispute", "claim", f"I am {ID_A}, call {PHONE}.", dispute.pk
    )
    _as_stored_before_masking(
        "records_subjectstatement", "text", f"Call me on {PHONE}.", statement.pk
    )
    _as_stored_before_masking("records_batcherror", "value", ID_A, error.pk)
    _as_stored_before_masking("records_batch", "idempotency_key", PHONE, batch.pk)
    kept = ingest(acme, csv_bytes([good_row(account_no="B-1")]), idempotency_key="k-7")

    _migrate()

    dispute.refresh_from_db()
    assert dispute.claim == "I am 110105********002X, call 138****5678."
    statement.refresh_from_db()
    assert statement.text == "Call me on 138****5678."
    error.refresh_from_db()
    assert error.value == "110105********002X"
    assert Batch.objects.get(pk=batch.pk).idempotency_key is None
    assert Batch.objects.get(pk=kept.pk).idempotency_key == "k-7"
    assert SubjectStatement.objects.count() == Dispute.objects.count() == 1
