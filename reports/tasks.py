"""Celery tasks of reports: thin, take ids, call a service, safe to run again."""

import logging

from celery import shared_task
from django.db import OperationalError

from reports.selectors import webhooks_due
from reports.services.screening import screening_fail, screening_run
from reports.services.screening_files import screening_files_sweep
from reports.services.webhooks import batch_completed_queue, webhook_deliver

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


@shared_task(
    name="reports.tasks.maintenance_delete_screening_files",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    acks_late=True,
)
def maintenance_delete_screening_files() -> int:
    """Every 15 minutes: delete the files of screenings ended longer than
    BUREAU_RAW_FILE_KEEP_HOURS ago (idempotent; audited per file)."""
    return screening_files_sweep()


# -- monitoring: webhooks (queue notify, routed by the notify_ prefix) ---------------


@shared_task(
    name="reports.tasks.notify_deliver_webhook",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=8,
    acks_late=True,
)
def notify_deliver_webhook(delivery_id: str) -> str:
    """One attempt of a delivery; a failed attempt queues the next one itself."""
    outcome = webhook_deliver(delivery_id=delivery_id)
    if outcome is None:
        return "skipped"
    if outcome.retry_at is not None:
        notify_deliver_webhook.apply_async((delivery_id,), eta=outcome.retry_at)
    return outcome.status


@shared_task(
    name="reports.tasks.notify_batch_completed",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=8,
    acks_late=True,
)
def notify_batch_completed(batch_id: int) -> int:
    """Queue batch.completed to the member's webhooks (once per webhook)."""
    return len(batch_completed_queue(batch_id=batch_id))


@shared_task(name="reports.tasks.notify_webhooks_due", acks_late=True)
def notify_webhooks_due() -> int:
    """Beat, every minute: re-send deliveries whose retry message was lost."""
    due = webhooks_due()
    for delivery_id in due:
        notify_deliver_webhook.delay(str(delivery_id))
    return len(due)
