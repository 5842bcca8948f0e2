"""Django's `flush`, which in dev and test empties the audit table as well.

The audit table refuses TRUNCATE (migration 0007), and `flush` is a TRUNCATE of
every table: the test runner's after each transactional test, a developer's
reset of a laptop database. In dev and test (`BUREAU_ENV`), the table's trigger
is disabled inside the flush's own transaction, so no other session ever sees the
table unguarded. In production nothing changes: the database refuses, and the
audit trail survives a `flush` typed on the wrong server.
"""

from django.conf import settings
from django.core.management.commands import flush
from django.db import connections, transaction

_TABLE = "audit_auditevent"
_TRIGGER = "audit_event_no_truncate"


class Command(flush.Command):
    def handle(self, **options):
        if not settings.IS_DEV:
            return super().handle(**options)
        connection = connections[options["database"]]
        ops = connection.ops
        plain_flush = ops.execute_sql_flush

        def execute_sql_flush(sql_list):
            if not any(_TABLE in sql for sql in sql_list):
                return plain_flush(sql_list)
            with transaction.atomic(using=connection.alias):
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT 1 FROM pg_trigger WHERE tgname = %s", [_TRIGGER]
                    )
                    guarded = cursor.fetchone() is not None
                    if guarded:
                        cursor.execute(
                            f"ALTER TABLE {_TABLE} DISABLE TRIGGER {_TRIGGER}"
                        )
                plain_flush(sql_list)
                if guarded:
                    with connection.cursor() as cursor:
                        cursor.execute(
                            f"ALTER TABLE {_TABLE} ENABLE TRIGGER {_TRIGGER}"
                        )

        # For this call only: the instance attribute shadows the method.
        ops.execute_sql_flush = execute_sql_flush
        try:
            return super().handle(**options)
        finally:
            del ops.execute_sql_flush
