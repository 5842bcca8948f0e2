"""The columns of a furnished record, declared once.

Each column of a furnishing file, and each value the ingest stages for the merge,
is one `Column` below: its name, its PostgreSQL type in the staging table, the
`Record` field it lands in, whether a dispute correction may change it. The file
format (reader, validator), the staging table and its COPY, the merge's INSERT and
UPDATE lists, the dispute corrections and the furnisher's correction form all
take their lists from here, so a new column is one line here (plus its model
field, its migration and its validation rule).

This module is plain data: the file format imports it, so it imports nothing of
the app (tests/records/test_columns.py checks it against the model).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = (
    "CORRECTABLE",
    "DELETE_REQUIRED_COLUMNS",
    "FILE_COLUMNS",
    "RECORD_COLUMNS",
    "REPORTED_FIELDS",
    "REQUIRED_COLUMNS",
    "SPEC",
    "STAGE_COLUMNS",
    "STAGE_DERIVED",
    "STAGE_FROM_ROW",
    "Column",
    "stage_table_columns",
)


@dataclass(frozen=True, slots=True)
class Column:
    """One column. `sql_type` is None for a file column that is never staged in
    clear (the identity number and the phone: only their hash and mask are)."""

    name: str
    sql_type: str | None
    # A column of the furnishing file (a header cell / a JSON Lines key).
    in_file: bool = False
    # The header must name it.
    required: bool = False
    # Staged from the validated row's attribute of the same name (else computed
    # by the ingest from other values: hashes, masks, the month's status).
    from_row: bool = False
    # Part of the row a delete needs (its key and as_of).
    delete_key: bool = False
    # NOT NULL in the staging table (staged for deletes too).
    not_null: bool = False
    # A value the row reports about the account: hashed into row_hash, shown in
    # reports, changed by a later report of the key.
    reported: bool = False
    # A dispute correction may change it.
    correctable: bool = False
    # The Record field the merge writes it to (None: not stored on Record).
    record_field: str | None = None
    # Stored as '' when the row has none (the Record field is not nullable).
    empty_when_null: bool = False
    # An update never moves it later: a cured account keeps its first delinquency.
    keep_earliest: bool = False

    @property
    def field(self) -> str:
        """The Record field, for a column stored on Record (RECORD_COLUMNS, and
        every correctable column); ValueError for the others."""
        if self.record_field is None:
            raise ValueError(f"{self.name} is not stored on Record")
        return self.record_field


def _reported(name: str, sql_type: str, *, required: bool = True, **more) -> Column:
    return Column(
        name,
        sql_type,
        in_file=True,
        required=required,
        from_row=True,
        reported=True,
        correctable=True,
        record_field=name,
        **more,
    )


def _key(name: str) -> Column:
    """A column of the account key, read from the file and staged as it is."""
    return Column(
        name,
        "text",
        in_file=True,
        required=True,
        from_row=True,
        delete_key=True,
        not_null=True,
    )


# In file order: the file's header lists its columns in this order (FILE_COLUMNS),
# and the staging table too (STAGE_COLUMNS), with the computed values in between.
SPEC: tuple[Column, ...] = (
    Column("row_no", "integer", not_null=True),
    _key("account_no"),
    _key("id_type"),
    Column("id_number", None, in_file=True, required=True, delete_key=True),
    Column("id_hash", "text", not_null=True),
    Column("id_masked", "text", not_null=True),
    Column("name", "text", in_file=True, required=True, from_row=True),
    _reported("role", "text", required=False),
    _reported("loan_type", "text"),
    _reported("currency", "text", required=False),
    _reported("principal", "numeric(16, 2)"),
    _reported("balance", "numeric(16, 2)"),
    _reported("amount_overdue", "numeric(16, 2)"),
    _reported("days_overdue", "integer"),
    _reported("status", "text"),
    _reported("classification", "text", required=False),
    _reported("opened_on", "date"),
    _reported("due_on", "date", required=False),
    _reported("first_delinquency_on", "date", required=False, keep_earliest=True),
    _reported("as_of", "date", delete_key=True, not_null=True),
    Column("phone", None, in_file=True),
    Column("phone_hash", "text", record_field="phone_hash", empty_when_null=True),
    Column("phone_masked", "text", record_field="phone_masked", empty_when_null=True),
    # Sent anew with each report; stored as months (RecordMonth), not on Record.
    Column("payment_history", "text", in_file=True, from_row=True, correctable=True),
    Column("month_status", "text"),
    Column("action", "text", in_file=True, from_row=True, not_null=True),
    Column("row_hash", "text", not_null=True, record_field="row_hash"),
)

# The furnishing file's columns, and those its header must name.
FILE_COLUMNS = tuple(c.name for c in SPEC if c.in_file)
REQUIRED_COLUMNS = tuple(c.name for c in SPEC if c.required)
# The columns a delete row needs.
DELETE_REQUIRED_COLUMNS = tuple(c.name for c in SPEC if c.delete_key)
# The values a row reports about an account (besides its key, the name, phone and
# history), in file order: ingest hashes them in this order, reports show them.
REPORTED_FIELDS = tuple(c.name for c in SPEC if c.reported)
# What a correction may change: the reported values and the payment history. The
# key (member, account, person) and the name stay as on file; the phone is not
# re-sent.
CORRECTABLE = tuple(c.name for c in SPEC if c.correctable)
# What the merge writes to a Record from the staged row (besides its key and the
# bookkeeping: member, subject, account_no, furnished_seq, batch, timestamps).
RECORD_COLUMNS = tuple(c for c in SPEC if c.record_field is not None)

# The staging table's columns: the computed values first, then those taken from
# the validated row (one attrgetter on the hot path), each group in file order.
STAGE_DERIVED = tuple(c.name for c in SPEC if c.sql_type is not None and not c.from_row)
STAGE_FROM_ROW = tuple(c.name for c in SPEC if c.from_row)
STAGE_COLUMNS = (*STAGE_DERIVED, *STAGE_FROM_ROW)

_BY_NAME = {c.name: c for c in SPEC}


def stage_table_columns() -> str:
    """The column definitions of the staging table, in STAGE_COLUMNS order."""
    parts = []
    for name in STAGE_COLUMNS:
        column = _BY_NAME[name]
        null = " NOT NULL" if column.not_null else ""
        parts.append(f"{name} {column.sql_type}{null}")
    return ",\n    ".join(parts)
