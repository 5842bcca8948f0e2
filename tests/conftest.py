"""Shared fixtures. Everything runs against real PostgreSQL and Redis; tests that need
the broker start a real Celery worker (no eager mode).

BUREAU_TEST_CLOCK_AHEAD_DAYS=N runs the whole session with the clock moved N days
ahead (time-machine, ticking): results must not depend on the day the suite runs,
and CI runs the suite a second time a year and a few days ahead. Tests marked
`real_clock` (they start processes of their own, which keep the real clock) are
skipped then."""

import os
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import MemberFactory, UserFactory, issue_key

CLOCK_AHEAD_DAYS = int(os.environ.get("BUREAU_TEST_CLOCK_AHEAD_DAYS") or 0)


def pytest_configure(config):
    if CLOCK_AHEAD_DAYS:
        import time_machine

        ahead = datetime.now(UTC) + timedelta(days=CLOCK_AHEAD_DAYS)
        config._bureau_clock = time_machine.travel(ahead, tick=True)
        config._bureau_clock.start()
    _own_broker_keys()


def pytest_report_header(config):
    if CLOCK_AHEAD_DAYS:
        return (
            f"clock moved {CLOCK_AHEAD_DAYS} days ahead: {datetime.now(UTC):%Y-%m-%d}"
        )
    return None


def pytest_collection_modifyitems(config, items):
    if not CLOCK_AHEAD_DAYS:
        return
    skip = pytest.mark.skip(reason="starts processes that keep the real clock")
    for item in items:
        if "real_clock" in item.keywords:
            item.add_marker(skip)


def _own_broker_keys() -> None:
    """Under pytest-xdist every process shares one Redis database: prefix the
    broker's keys with the process's name, or one process's Celery worker runs
    (and loses) the tasks another process queued for its own test database."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        from bureau.celery import app

        options = dict(app.conf.broker_transport_options or {})
        options["global_keyprefix"] = f"{worker}:"
        app.conf.broker_transport_options = options


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.2 s a user; no test here is about the hash itself.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    from members import keycache

    cache.clear()
    keycache.forget_local()
    yield


@pytest.fixture
def fresh_rate_window(time_machine):
    """The clock at the start of the next hour (ticking): rate limits count in
    fixed windows (minute, hour), so hits a test sends in a row must not straddle
    a window's end, which under a loaded machine they sometimes did."""
    from django.utils import timezone

    now = timezone.now()
    start = now.replace(minute=0, second=1, microsecond=0) + timedelta(hours=1)
    time_machine.move_to(start, tick=True)
    return start


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def acme(db):
    return MemberFactory(code="acme", name="Acme Lending")


@pytest.fixture
def globex(db):
    return MemberFactory(code="globex", name="Globex Credit")


@pytest.fixture
def alice(acme):
    """Alice is Acme's member admin."""
    return UserFactory(username="alice", role="member_admin", member=acme)


@pytest.fixture
def bob(acme):
    """Bob is an analyst at Acme: Alice's teammate."""
    return UserFactory(username="bob", role="analyst", member=acme)


@pytest.fixture
def charlie(globex):
    """Charlie is Globex's member admin: a stranger to Acme."""
    return UserFactory(username="charlie", role="member_admin", member=globex)


@pytest.fixture
def acme_key(acme):
    return issue_key(acme)


def bearer(full_key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {full_key}"}


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (thread) consuming from the real Redis broker."""
    from celery.contrib.testing.worker import start_worker

    from bureau.celery import app

    app.loader.import_default_modules()
    # Messages left by earlier tests name rows that no longer exist.
    with app.connection_for_write() as conn:
        for queue in ("default", "ingest", "aggregate", "notify", "maintenance"):
            conn.default_channel.queue_purge(queue)
    with start_worker(
        app,
        pool="threads",
        concurrency=2,
        perform_ping_check=False,
        shutdown_timeout=30,
        queues=["default", "ingest", "aggregate", "notify", "maintenance"],
    ) as worker:
        yield worker


@pytest.fixture
def redis_commands():
    """The commands sent to Redis while the test runs, in order: each one a round
    trip. Counted on the real client (redis-py), which still does the work."""
    from unittest import mock

    import redis

    sent: list[str] = []
    real = redis.Redis.execute_command

    def counting(self, *args, **options):
        sent.append(args[0])
        return real(self, *args, **options)

    with mock.patch.object(redis.Redis, "execute_command", counting):
        yield sent


def db_thread(target, errors: list) -> threading.Thread:
    """A thread that runs `target` on its own database connection, closed after;
    what it raises goes to `errors` (for tests of concurrent sessions)."""
    from django.db import connection

    def run():
        try:
            target()
        except Exception as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    return threading.Thread(target=run)


def wait_for_advisory_lock_waiter(timeout: float = 10) -> None:
    """Until some session waits for an advisory lock (the audit chain's)."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks"
                " WHERE locktype = 'advisory' AND NOT granted"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.01)
    raise AssertionError("no session came to wait for an advisory lock")
