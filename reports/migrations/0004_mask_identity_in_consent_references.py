"""Consent references stored before identity numbers were refused in them may hold
one (or a phone): mask those that the refusal would have kept out
(bureau/core/identity_shapes.py), once, in one statement per table."""

from django.db import migrations

from bureau.core.migration_masking import mask_column

TABLES = ("reports_inquiry", "reports_watch", "reports_screening")


def mask_consent_references(apps, schema_editor):
    for table in TABLES:
        mask_column(schema_editor, table, "consent_reference")


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_inquiry_created_brin")]

    operations = [
        migrations.RunPython(
            mask_consent_references, migrations.RunPython.noop, elidable=True
        ),
    ]
