"""The health check asks the socket first, and the server only when it has spoken."""

import time
from unittest import mock

import psycopg
import pytest
from django.db import close_old_connections, connection, transaction
from django.db.backends.postgresql import base as django_postgresql


@pytest.fixture(autouse=True)
def _fresh_connection_after():
    """A test here may leave the connection ended by the server: drop it, so the
    test database's teardown starts from a new one."""
    yield
    connection.close()


def _terminate_backend(pid: int) -> None:
    """End the session from another connection, as a restart or an administrator
    would, and wait until its socket shows it."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            gone = admin.execute(
                "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = %s", [pid]
            ).fetchone()[0]
            if gone:
                return
            time.sleep(0.01)
    raise AssertionError("the backend did not end")


@pytest.fixture
def server_asked():
    """Each time the check falls back to Django's `SELECT 1` (which still runs)."""
    calls = []
    asked = django_postgresql.DatabaseWrapper.is_usable

    def spy(self):
        calls.append(self.alias)
        return asked(self)

    with mock.patch.object(django_postgresql.DatabaseWrapper, "is_usable", spy):
        yield calls


@pytest.mark.django_db(transaction=True)
def test_is_usable_when_connection_is_idle_and_live_asks_no_query(server_asked):
    connection.ensure_connection()
    assert connection.is_usable() is True
    assert server_asked == []


@pytest.mark.django_db(transaction=True)
def test_is_usable_when_in_a_transaction_asks_the_server(server_asked):
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert connection.is_usable() is True
    assert server_asked == ["default"]


@pytest.mark.django_db(transaction=True)
def test_is_usable_when_server_ended_the_session_is_false(server_asked):
    connection.ensure_connection()
    _terminate_backend(connection.connection.info.backend_pid)
    assert connection.is_usable() is False
    assert server_asked == ["default"]  # the socket had news: the server confirmed


@pytest.mark.django_db(transaction=True)
def test_request_when_server_ended_the_session_reconnects_before_querying():
    """What CONN_HEALTH_CHECKS is for: the next request gets a new connection
    instead of an error."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        old_pid = cursor.fetchone()[0]
    _terminate_backend(old_pid)
    close_old_connections()  # what request_started runs
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != old_pid
