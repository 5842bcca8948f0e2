"""Each event records the version of the chain key that made its hash.

Existing events get 0, the legacy unkeyed SHA-256 they were hashed with. Adding
a column with a constant default does not rewrite the table, nor fire its
UPDATE trigger: PostgreSQL stores the default once, in the catalogue.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_chain_head_function")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="chain_key_version",
            field=models.PositiveSmallIntegerField(default=0, editable=False),
        ),
    ]
