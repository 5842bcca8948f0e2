"""Leave room on each page so re-reported records and months update in place (HOT
updates: no index maintenance when no indexed column changes)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE records_record SET (fillfactor = 80);"
            "ALTER TABLE records_recordmonth SET (fillfactor = 85);"
            "ALTER TABLE records_profile SET (fillfactor = 85);",
            "ALTER TABLE records_record RESET (fillfactor);"
            "ALTER TABLE records_recordmonth RESET (fillfactor);"
            "ALTER TABLE records_profile RESET (fillfactor);",
        )
    ]
