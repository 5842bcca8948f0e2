"""Free text stored before identity numbers and phones were masked in it (dispute
claims, statements, rejected-row values) may hold one in clear: mask those, once.
An idempotency key holding one is cleared instead: two masked keys could collide
under the member's unique key, and an upload is still recognised by its sha256."""

from django.db import migrations

from bureau.core.migration_masking import clear_column, mask_column

MASKED = (
    ("records_dispute", "claim"),
    ("records_subjectstatement", "text"),
    ("records_batcherror", "value"),
)


def mask_free_text(apps, schema_editor):
    for table, column in MASKED:
        mask_column(schema_editor, table, column)
    clear_column(schema_editor, "records_batch", "idempotency_key")


class Migration(migrations.Migration):
    dependencies = [("records", "0005_furnishing_order")]

    operations = [
        migrations.RunPython(mask_free_text, migrations.RunPython.noop, elidable=True),
    ]
