"""`/healthz` answers 200 only when database, Redis and a Celery worker all answer."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings


@pytest.mark.celery_worker
def test_healthz_when_all_parts_up_returns_200(client, celery_worker):
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {
        "database": "ok",
        "redis": "ok",
        "celery": "ok",
    }


@pytest.mark.django_db
@override_settings(BUREAU_HEALTH_CELERY_TIMEOUT=0.3)
def test_healthz_when_no_worker_returns_503_naming_celery(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["celery"]
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"


def test_healthcheck_when_broker_dead_fails_naming_redis_and_celery():
    """A separate process pointed at a dead Redis: nothing global is disturbed."""
    env = {
        **os.environ,
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "BUREAU_HEALTH_CELERY_TIMEOUT": "0.3",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "healthcheck"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    body = json.loads(result.stdout.strip().splitlines()[-1])
    assert "redis" in body["failed"] and "celery" in body["failed"]
    assert body["checks"]["database"] == "ok"
