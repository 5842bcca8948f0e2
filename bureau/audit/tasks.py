"""Celery tasks of the audit app: thin, call a service, safe to run again."""

from celery import shared_task
from django.db import OperationalError

from bureau.audit.misuse import misuse_detect


@shared_task(
    name="bureau.audit.tasks.maintenance_detect_misuse",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
def maintenance_detect_misuse() -> int:
    """Run the misuse rules over the hour that just ended (beat: minute 5)."""
    return len(misuse_detect())
