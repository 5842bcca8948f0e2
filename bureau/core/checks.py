"""System checks run by `migrate` (and `check --database default`): what the
code needs of the PostgreSQL server it is given."""

from __future__ import annotations

from django.core import checks
from django.db import connections


def server_encoding_errors(encoding: str) -> list[checks.Error]:
    # The query's name filter calls normalize(), which needs UTF8; names in
    # Chinese need it anyway.
    if encoding.upper() in ("UTF8", "UTF-8"):
        return []
    return [
        checks.Error(
            f"The database's server encoding is {encoding}; Bureau needs UTF8.",
            hint="Create the database with ENCODING 'UTF8' (initdb -E UTF8).",
            id="bureau.E001",
        )
    ]


@checks.register(checks.Tags.database)
def check_server_encoding(app_configs=None, databases=None, **kwargs):
    errors: list[checks.Error] = []
    for alias in databases or ():
        with connections[alias].cursor() as cursor:
            cursor.execute("SHOW server_encoding")
            errors += server_encoding_errors(cursor.fetchone()[0])
    return errors
