"""The column spec (bureau/records/columns.py) against the model, the file format,
the staging table and the lists derived from it."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from django.db import connection, models, transaction

from bureau.records import columns, identity_keys
from bureau.records.fileformat import COLUMNS, REQUIRED_COLUMNS, CleanRow, RowValidator
from bureau.records.history import month_status
from bureau.records.models import Record
from bureau.records.services import ingest, merge
from bureau.records.services.disputes import CORRECTABLE
from tests.records.helpers import ID_A, PHONE, good_row
from web.views.disputes import DisputeAnswerForm

# The lists as they were written out before the spec: the spec must give them.
REPORTED = (
    "role",
    "loan_type",
    "currency",
    "principal",
    "balance",
    "amount_overdue",
    "days_overdue",
    "status",
    "classification",
    "opened_on",
    "due_on",
    "first_delinquency_on",
    "as_of",
)
FILE = (
    "account_no",
    "id_type",
    "id_number",
    "name",
    *REPORTED,
    "phone",
    "payment_history",
    "action",
)
REQUIRED = (
    "account_no",
    "id_type",
    "id_number",
    "name",
    "loan_type",
    "principal",
    "balance",
    "amount_overdue",
    "days_overdue",
    "status",
    "opened_on",
    "as_of",
)

# A staging type and the model fields that store it.
COMPATIBLE = {
    "text": (models.CharField, models.TextField),
    "integer": (models.IntegerField,),
    "date": (models.DateField,),
    "numeric(16, 2)": (models.DecimalField,),
}


def test_spec_lists_equal_the_file_format():
    assert columns.FILE_COLUMNS == COLUMNS == FILE
    assert columns.REQUIRED_COLUMNS == REQUIRED_COLUMNS == REQUIRED
    assert columns.REPORTED_FIELDS == REPORTED
    assert CORRECTABLE == columns.CORRECTABLE == (*REPORTED, "payment_history")
    assert columns.DELETE_REQUIRED_COLUMNS == (
        "account_no",
        "id_type",
        "id_number",
        "as_of",
    )


def test_spec_file_columns_are_the_clean_row():
    clean_fields = [f.name for f in dataclasses.fields(CleanRow)]
    assert clean_fields == list(columns.FILE_COLUMNS)
    assert set(columns.STAGE_FROM_ROW) <= set(clean_fields)


@pytest.mark.parametrize("column", columns.RECORD_COLUMNS, ids=lambda c: c.name)
def test_spec_record_column_is_a_model_field_of_its_type(column):
    field = Record._meta.get_field(column.record_field)
    assert isinstance(field, COMPATIBLE[column.sql_type])
    if isinstance(field, models.DecimalField):
        assert (field.max_digits, field.decimal_places) == (16, 2)
    # A value the row may leave out is NULL on Record, or '' (empty_when_null).
    if column.name in ("due_on", "first_delinquency_on"):
        assert field.null
    if column.empty_when_null:
        assert field.blank and not field.null


def test_spec_reported_columns_are_stored_on_record():
    stored = {c.name for c in columns.RECORD_COLUMNS}
    assert set(columns.REPORTED_FIELDS) <= stored


def test_merge_record_lists_equal_the_lists_written_before():
    reported = ", ".join(REPORTED)
    assert merge.record_insert_fields() == (
        f"{reported}, phone_hash, phone_masked, row_hash"
    )
    assert merge.record_insert_values() == (
        f"{reported}, coalesce(phone_hash, ''), coalesce(phone_masked, ''), row_hash"
    )
    plain = ", ".join(
        f"{name} = c.{name}" for name in REPORTED if name != "first_delinquency_on"
    )
    assert merge.record_update_assignments() == (
        plain.replace(
            "due_on = c.due_on",
            "due_on = c.due_on, first_delinquency_on = "
            "LEAST(r.first_delinquency_on, c.first_delinquency_on)",
        )
        + ", phone_hash = coalesce(c.phone_hash, ''),"
        " phone_masked = coalesce(c.phone_masked, ''), row_hash = c.row_hash"
    )


@pytest.mark.django_db(transaction=True)
def test_staging_table_has_the_spec_columns_and_types():
    with transaction.atomic():
        merge.stage_rows([])
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attname, format_type(atttypid, atttypmod), attnotnull"
                "  FROM pg_attribute WHERE attrelid = 'ingest_stage'::regclass"
                "   AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
            )
            rows = cursor.fetchall()
    names = {"text": "text", "integer": "integer", "date": "date"}
    by_name = {c.name: c for c in columns.SPEC}
    assert [name for name, _, _ in rows] == list(columns.STAGE_COLUMNS)
    for name, sql_type, not_null in rows:
        spec = by_name[name]
        expected = names.get(spec.sql_type, "numeric(16,2)")
        assert (sql_type, not_null) == (expected, spec.not_null)


def _clean(**overrides) -> CleanRow:
    clean, errors = RowValidator(today=date.today()).validate(1, good_row(**overrides))
    assert not errors
    return clean


@pytest.mark.django_db
def test_stage_tuple_of_an_upsert_follows_stage_columns():
    clean = _clean()
    chain = identity_keys.key_chain()
    staged = dict(
        zip(columns.STAGE_COLUMNS, ingest.stage_tuple(7, clean, chain), strict=True)
    )
    assert staged["row_no"] == 7
    assert staged["id_hash"] == chain.current_hash("resident_id", ID_A)
    assert ID_A not in str(staged.values())
    assert staged["phone_hash"] == chain.phone_hash(clean.phone)
    assert PHONE not in str(staged.values())
    assert staged["month_status"] == month_status(clean.status, clean.days_overdue)
    assert staged["row_hash"] == ingest.row_hash(clean)
    assert staged["action"] == "upsert"
    for name in (*columns.REPORTED_FIELDS, "account_no", "name", "payment_history"):
        assert staged[name] == getattr(clean, name)


@pytest.mark.django_db
def test_stage_tuple_of_a_delete_keeps_only_its_key():
    clean = _clean(action="delete")
    chain = identity_keys.key_chain()
    staged = dict(
        zip(columns.STAGE_COLUMNS, ingest.stage_tuple(3, clean, chain), strict=True)
    )
    kept = {"row_no", "id_hash", "id_masked", "row_hash", "account_no", "id_type"}
    kept |= {"as_of", "action"}
    assert staged["action"] == "delete"
    assert staged["as_of"] == clean.as_of
    assert {name for name, value in staged.items() if value is not None} == kept


def test_correction_form_has_a_field_for_every_correctable_column():
    assert DisputeAnswerForm.VALUE_FIELDS == columns.CORRECTABLE
    assert set(columns.CORRECTABLE) <= set(DisputeAnswerForm.base_fields)
