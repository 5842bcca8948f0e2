"""The audit table refuses TRUNCATE as it refuses UPDATE and DELETE (0003).

TRUNCATE fires no row trigger, so it needs a statement-level one of its own. The
table's owner can still disable the triggers: what then shows the loss are the
signed checkpoints outside the database (bureau/audit/checkpoints.py).
"""

from django.db import migrations

INSTALL = """
CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change();
"""

REMOVE = "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;"


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_auditevent_chain_key_version")]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
