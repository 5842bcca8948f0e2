"""For tests that run the project's own commands as subprocesses on the test
database (manage.py, `python -m bureau.demo`, the README's shell commands)."""

from __future__ import annotations

from django.db import connection


def database_env() -> dict[str, str]:
    """DATABASE_URL (and PGHOST) naming the test database. A socket directory, as
    the embedded server gives, goes in PGHOST: a URL's host cannot hold a path."""
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or "5432"
    if host.startswith("/"):
        return {
            "PGHOST": host,
            "DATABASE_URL": f"postgres://{db['USER']}@/{db['NAME']}",
        }
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return {
        "DATABASE_URL": f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"
    }
