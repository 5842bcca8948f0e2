"""Consent references stored before identity numbers were refused in them may hold
one (or a phone): mask those that the refusal would have kept out
(bureau/core/identity_shapes.py), once, in one statement per table."""

from django.db import migrations

from bureau.core.identity_shapes import holds_identity, mask_free_text

TABLES = ("reports_inquiry", "reports_watch", "reports_screening")
# Rows that can hold one (a quick filter; holds_identity decides): 11 digits in a
# row, a grouped mobile, a "+", full-width digits, an 18-char credit code.
CANDIDATES = r"[0-9]{11}|[0-9]{3}[ -][0-9]{4}[ -][0-9]{4}|[+＋]|[０-９]|[0-9A-Z]{18}"


def mask_consent_references(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(
                f"SELECT DISTINCT consent_reference FROM {table}"  # noqa: S608
                " WHERE consent_reference ~ %s",
                [CANDIDATES],
            )
            old = [value for (value,) in cursor.fetchall() if holds_identity(value)]
            if not old:
                continue
            cursor.execute(
                f"UPDATE {table} t SET consent_reference = m.masked"  # noqa: S608
                " FROM unnest(%s::text[], %s::text[]) AS m(old, masked)"
                " WHERE t.consent_reference = m.old",
                [old, [mask_free_text(value) for value in old]],
            )


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_inquiry_created_brin")]

    operations = [
        migrations.RunPython(
            mask_consent_references, migrations.RunPython.noop, elidable=True
        ),
    ]
