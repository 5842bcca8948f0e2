"""Data migrations that clean values stored before identity numbers and phones
were refused or masked (bureau/core/identity_shapes.py): the same rule, applied
once to old rows, one set-based UPDATE per column."""

from __future__ import annotations

from bureau.core.identity_shapes import holds_identity, mask_free_text

# Values that can hold one (a quick filter in SQL; holds_identity decides): 11
# digits in a row, a grouped mobile, a "+", full-width digits, an 18-char code.
CANDIDATES = r"[0-9]{11}|[0-9]{3}[ -][0-9]{4}[ -][0-9]{4}|[+＋]|[０-９]|[0-9A-Z]{18}"


def _holding(cursor, table: str, column: str) -> list[str]:
    cursor.execute(
        f"SELECT DISTINCT {column} FROM {table} WHERE {column} ~ %s",  # noqa: S608
        [CANDIDATES],
    )
    return [value for (value,) in cursor.fetchall() if holds_identity(value)]


def mask_column(schema_editor, table: str, column: str) -> int:
    """Mask, in place, every value of `table.column` that holds an identity number
    or phone; returns how many distinct values changed."""
    with schema_editor.connection.cursor() as cursor:
        old = _holding(cursor, table, column)
        if old:
            cursor.execute(
                f"UPDATE {table} t SET {column} = m.masked"  # noqa: S608
                " FROM unnest(%s::text[], %s::text[]) AS m(old, masked)"
                f" WHERE t.{column} = m.old",
                [old, [mask_free_text(value) for value in old]],
            )
    return len(old)


def clear_column(schema_editor, table: str, column: str) -> int:
    """Set to NULL every value of `table.column` that holds an identity number or
    phone: for keys under a unique constraint, where two masked values could
    collide; returns how many distinct values were cleared."""
    with schema_editor.connection.cursor() as cursor:
        old = _holding(cursor, table, column)
        if old:
            cursor.execute(
                f"UPDATE {table} SET {column} = NULL"  # noqa: S608
                f" WHERE {column} = ANY(%s::text[])",
                [old],
            )
    return len(old)
