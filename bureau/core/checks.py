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


def ctype_warnings(ctype: str) -> list[checks.Warning]:
    # Under C (or POSIX) lower() folds ASCII letters only: the query's name filter
    # then passes on other upper-case names, which cost a second statement.
    if ctype.upper() not in ("C", "POSIX"):
        return []
    return [
        checks.Warning(
            f"The database's LC_CTYPE is {ctype}: lower() folds ASCII letters only.",
            hint="Answers stay right; queries of names with other upper-case "
            "letters take a second statement. Create the database with a UTF-8 "
            "locale (e.g. C.UTF-8) to avoid it.",
            id="bureau.W001",
        )
    ]


@checks.register(checks.Tags.database)
def check_server_encoding(app_configs=None, databases=None, **kwargs):
    errors: list[checks.CheckMessage] = []
    for alias in databases or ():
        with connections[alias].cursor() as cursor:
            cursor.execute("SHOW server_encoding")
            errors += server_encoding_errors(cursor.fetchone()[0])
            cursor.execute("SHOW lc_ctype")
            errors += ctype_warnings(cursor.fetchone()[0])
    return errors
