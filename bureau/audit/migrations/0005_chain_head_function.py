"""`audit_chain_head(key)`: take the chain writers' lock, then read the last event.

One round trip instead of two for every audit write. The function is VOLATILE, so
its SELECT takes a fresh snapshot after the lock is granted and sees the event the
previous lock holder committed (one statement doing both would read a snapshot
from before the wait, and fork the chain).
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION audit_chain_head(lock_key bigint)
RETURNS TABLE (sequence bigint, hash varchar)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN QUERY
        SELECT e.sequence, e.hash FROM audit_auditevent e
        ORDER BY e.sequence DESC LIMIT 1;
END;
$$;
"""

REMOVE = "DROP FUNCTION IF EXISTS audit_chain_head(bigint);"


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_alert")]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
