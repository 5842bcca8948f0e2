"""`/healthz`: database, Redis and a Celery worker must all answer."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger("bureau.health")


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_redis() -> None:
    cache.get("healthz")  # raises on a dead server (the Django cache is Redis)
    # The Redis backend's own client: BaseCache, as typed, has none.
    client = cache._cache.get_client(write=False)  # type: ignore[attr-defined]
    if not client.ping():
        raise RuntimeError("redis did not answer PING")


def _check_celery() -> None:
    from bureau.celery import app

    timeout = settings.BUREAU_HEALTH_CELERY_TIMEOUT
    with app.connection_for_write() as conn:
        # Fail fast on a dead broker instead of Celery's patient reconnect loop.
        conn.ensure_connection(max_retries=1, timeout=timeout)
        replies = app.control.ping(timeout=timeout, connection=conn)
    if not replies:
        raise RuntimeError("no Celery worker replied to ping")


CHECKS = {"database": _check_database, "redis": _check_redis, "celery": _check_celery}


def run_health_checks() -> dict:
    """Each part's state; `failed` lists the parts that did not answer."""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # any failure means "not healthy", never a 500
            # Details go to the log only: /healthz is public.
            logger.warning(
                "health check failed",
                extra={
                    "kv": {"check": name, "error": f"{type(exc).__name__}: {exc}"[:300]}
                },
            )
            results[name] = f"error: {type(exc).__name__}"
        else:
            results[name] = "ok"
    failed = sorted(name for name, value in results.items() if value != "ok")
    body: dict[str, object] = {
        "status": "ok" if not failed else "unavailable",
        "checks": results,
    }
    if failed:
        body["failed"] = failed
    return body


@never_cache
def healthz(request):
    body = run_health_checks()
    return JsonResponse(body, status=503 if body.get("failed") else 200)
