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


def case_folding_warnings(folds_non_ascii: bool) -> list[checks.Warning]:
    # Under a C (or POSIX) locale lower() folds ASCII letters only: the query's
    # name filter then turns away other upper-case names, which cost a second
    # statement. Asked of lower() itself: where the locale lives (LC_CTYPE,
    # ICU, the builtin provider) differs between PostgreSQL versions.
    if folds_non_ascii:
        return []
    return [
        checks.Warning(
            "The database's lower() folds ASCII letters only (a C locale).",
            hint="Answers stay right; queries of names with other upper-case "
            "letters take a second statement. Create the database with a UTF-8 "
            "locale (e.g. C.UTF-8) to avoid it.",
            id="bureau.W001",
        )
    ]


@checks.register(checks.Tags.database)
def check_database_server(app_configs=None, databases=None, **kwargs):
    errors: list[checks.CheckMessage] = []
    for alias in databases or ():
        with connections[alias].cursor() as cursor:
            cursor.execute("SHOW server_encoding")
            errors += server_encoding_errors(cursor.fetchone()[0])
            cursor.execute("SELECT lower('Ä') = 'ä'")
            errors += case_folding_warnings(cursor.fetchone()[0])
    return errors
