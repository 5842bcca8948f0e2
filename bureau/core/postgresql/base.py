"""Django's PostgreSQL backend, whose per-request health check (CONN_HEALTH_CHECKS)
asks the socket before it asks the server.

Django checks a reused connection with `SELECT 1` before each request's first
query: a round trip on every API call. A connection resting between requests has
nothing to read, so a socket with data or end-of-file waiting means the server
has spoken unasked: the FATAL it sends before hanging up (a restart,
`pg_terminate_backend`, an idle timeout), or the hang-up itself. Only then is the
server asked, as Django does. A path that drops silently (no FIN) is not seen by
either check until its next query fails.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        conn = self.connection
        if conn is None or conn.closed or conn.broken:
            return False
        if conn.info.transaction_status != pq.TransactionStatus.IDLE:
            return super().is_usable()
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
        if poller.poll(0):
            return super().is_usable()
        return True
