"""Celery tasks of reports: thin, take ids, call a service, safe to run again."""

import logging

from celery import shared_task
from django.db import OperationalError

from reports.services.screening import screening_fail, screening_run

logger = logging.getLogger("bureau.screening")


@shared_task(
    bind=True,
    name="reports.tasks.screen_persons",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=8,
    acks_late=True,
)
def screen_persons(self, screening_id: int) -> str:
    """Screen a file of persons; a re-run resumes after the last committed chunk."""
    try:
        screening = screening_run(screening_id=screening_id)
    except OperationalError:
        if self.request.retries >= self.max_retries:
            screening_fail(
                screening_id=screening_id,
                reason="database unavailable; retries exhausted",
            )
        raise
    except Exception:
        logger.exception("screening failed", extra={"kv": {"screening": screening_id}})
        screening_fail(
            screening_id=screening_id, reason="internal error while screening (logged)"
        )
        raise
    return screening.status if screening else "missing"
