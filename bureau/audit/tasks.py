"""Celery tasks of the audit app: thin, call a service, safe to run again."""

import logging

from celery import shared_task
from django.db import OperationalError
from django.utils import translation

from bureau.audit.misuse import misuse_detect
from bureau.audit.services import AuditChainBroken, audit_checkpoint_write

logger = logging.getLogger(__name__)


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


@shared_task(
    name="bureau.audit.tasks.maintenance_audit_checkpoint",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
def maintenance_audit_checkpoint() -> str | None:
    """Sign a checkpoint of the audit chain's head, after verifying the events
    since the latest one (beat: every BUREAU_AUDIT_CHECKPOINT_MINUTES). Returns
    the file written, or None."""
    try:
        path = audit_checkpoint_write()
    except AuditChainBroken as broken:
        with translation.override("en"):  # log lines are in English
            findings = "; ".join(
                f"[{finding.code}] {finding.message}"
                for finding in broken.report.findings
            )
        logger.error(
            "audit checkpoint refused: the chain does not verify since the "
            "latest checkpoint; run manage.py audit_verify. %s",
            findings,
        )
        return None
    if path is None:
        logger.info("audit checkpoint: no new event since the latest one")
        return None
    logger.info("audit checkpoint written: %s", path.name)
    return str(path)
