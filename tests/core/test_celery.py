"""A task really travels through the Redis broker to a worker and back."""

import uuid

import pytest

from bureau.core.tasks import database_roundtrip
from tests.factories import MemberFactory


@pytest.mark.celery_worker
def test_task_when_sent_through_broker_is_run_by_worker_and_sees_database(
    celery_worker,
):
    from bureau.celery import app

    assert not app.conf.task_always_eager
    MemberFactory(code="roundtrip")
    token = uuid.uuid4().hex
    result = database_roundtrip.delay(token)
    assert result.get(timeout=20) == {"token": token, "members": 1}
