"""Inquiries that follow their subject when records re-hashes it (identity key
rotation, bureau/records/identity_keys.py).

A miss has no subject row, only the number's hash, and a borrower's list of who
looked them up matches misses by that hash (`inquiries_about`): when the
subject's hash moves up the key chain, the inquiries carrying the old hash must
move in the same transaction, or the list would lose them.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from reports.models import Inquiry


def _rehash_sql() -> str:
    quote = connection.ops.quote_name
    meta = Inquiry._meta
    id_type = quote(str(meta.get_field("id_type").column))
    id_hash = quote(str(meta.get_field("id_hash").column))
    # Names from the model's metadata, values bound: no input reaches the text.
    return f"""
        UPDATE {quote(meta.db_table)} i
           SET {id_hash} = m.new_hash
          FROM unnest(%(id_types)s::text[], %(old)s::text[], %(new)s::text[])
               AS m(id_type, old_hash, new_hash)
         WHERE i.{id_hash} = m.old_hash AND i.{id_type} = m.id_type
    """  # noqa: S608


def inquiries_rehash(*, moves: Sequence[tuple[str, str, str]]) -> int:
    """Move the inquiries under each (id_type, old hash, new hash) to the new hash,
    in one statement, in the caller's transaction. Returns the rows moved."""
    if not moves:
        return 0
    id_types, old, new = (list(column) for column in zip(*moves, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(_rehash_sql(), {"id_types": id_types, "old": old, "new": new})
        return cursor.rowcount
