"""What the code needs of its PostgreSQL server is checked when migrating."""

import pytest
from django.core import checks

from bureau.core.checks import (
    case_folding_warnings,
    check_database_server,
    server_encoding_errors,
)


@pytest.mark.django_db
def test_database_checks_when_server_is_utf8_find_nothing():
    assert check_database_server in checks.registry.registry.get_checks()
    errors = checks.run_checks(tags=[checks.Tags.database], databases=["default"])
    assert [e for e in errors if e.id.startswith("bureau.")] == []


def test_server_encoding_when_not_utf8_is_an_error():
    (error,) = server_encoding_errors("SQL_ASCII")
    assert error.id == "bureau.E001" and "SQL_ASCII" in error.msg
    assert server_encoding_errors("UTF8") == []


def test_case_folding_when_ascii_only_warns_that_names_cost_a_second_statement():
    (warning,) = case_folding_warnings(False)
    assert warning.id == "bureau.W001"
    assert case_folding_warnings(True) == []
