"""Webhooks: a member's endpoint receives signed event deliveries (docs/webhooks.md).

Events are queued as one `WebhookDelivery` per subscribed webhook, in the caller's
transaction; `notify_deliver_webhook` (queue `notify`) POSTs each one:

    Content-Type: application/json
    X-Bureau-Event: profile.changed
    X-Bureau-Delivery: <delivery uuid, stable across retries>
    X-Bureau-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>

A 2xx answer delivers it; anything else (another status, a redirect, a timeout, a
refused connection) is retried after 30 s × 2^n (capped at an hour) until
`BUREAU_WEBHOOK_GIVE_UP` after creation, then the delivery is failed. Every attempt
is a `WebhookAttempt` row. A running attempt holds a lease on the delivery
(`next_attempt_at` moved past the timeout), taken by one conditional UPDATE, so a
duplicate task never sends twice at once.

The secret is generated here and returned once; Bureau keeps it as generated
because it needs it in clear to sign.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from bureau.audit.services import IDENTITY_REFUSED, audit_record, contains_identity
from bureau.core.actors import ActorLike
from bureau.core.errors import Conflict, Forbidden, ValidationFailed
from bureau.records.models import Batch
from members.models import Member
from members.principals import actor_user_and_key
from reports.models import Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent
from reports.selectors import webhooks_of_member

logger = logging.getLogger("bureau.webhooks")

MAX_WEBHOOKS_PER_MEMBER = 10
URL_MAX = 500
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
_ERROR_MAX = 300
_USER_AGENT = "Bureau-Webhooks/1"

Status = WebhookDelivery.Status


# -- signing -------------------------------------------------------------------------


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The X-Bureau-Signature value: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


# -- destinations --------------------------------------------------------------------


def _private(address: str) -> bool:
    try:
        return not ipaddress.ip_address(address.split("%", 1)[0]).is_global
    except ValueError:
        return False


def _check_url(url: str) -> str:
    """http(s), a host, no credentials; private/loopback hosts only where
    BUREAU_WEBHOOK_ALLOW_PRIVATE (dev and tests)."""
    url = (url or "").strip()
    problem = ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        parts, problem = None, gettext("Not a valid URL.")
    if parts is not None:
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            problem = gettext("Give an http:// or https:// URL with a host name.")
        elif parts.username or parts.password:
            problem = gettext(
                "Credentials in the URL are not allowed; verify the signature."
            )
        elif len(url) > URL_MAX:
            problem = gettext("At most %(max)s characters.") % {"max": URL_MAX}
        elif contains_identity(url):
            problem = gettext(IDENTITY_REFUSED)
        elif not settings.BUREAU_WEBHOOK_ALLOW_PRIVATE and (
            host == "localhost" or host.endswith(".localhost") or _private(host)
        ):
            problem = gettext("The URL must reach a public address.")
    if problem:
        raise ValidationFailed(errors={"url": [problem]})
    return url


def _destination_problem(url: str) -> str:
    """At delivery time: a host name must not resolve to a private address."""
    if settings.BUREAU_WEBHOOK_ALLOW_PRIVATE:
        return ""
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or None)
    except OSError as exc:
        return f"name resolution failed: {exc}"
    # An address is text (the stubs allow an int for AF_UNSPEC families).
    if any(_private(str(info[4][0])) for info in infos):
        return "destination resolves to a private address"
    return ""


# -- webhooks ------------------------------------------------------------------------


def _check_events(events: list[str]) -> list[str]:
    chosen = list(dict.fromkeys(events or []))
    unknown = [event for event in chosen if event not in WebhookEvent.values]
    if not chosen or unknown:
        raise ValidationFailed(
            errors={
                "events": [
                    gettext("Choose from: %(choices)s.")
                    % {"choices": ", ".join(WebhookEvent.values)}
                ]
            }
        )
    return chosen


def webhook_create(
    *, actor: ActorLike, member: Member | None, url: str, events: list[str]
) -> tuple[Webhook, str]:
    """Register an endpoint; returns it with its secret (shown this once only)."""
    if member is None:
        raise Forbidden(gettext("Only member platforms register webhooks."))
    errors: dict[str, list[str]] = {}
    try:
        url = _check_url(url)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        events = _check_events(events)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors=errors)
    secret = "whsec_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        # Serialise a member's creations so the cap holds under concurrency. NO
        # KEY: inquiries' foreign keys to the member (KEY SHARE, taken under the
        # audit chain lock) must not wait for it.
        Member.objects.select_for_update(no_key=True).filter(pk=member.pk).first()
        if webhooks_of_member(member=member).count() >= MAX_WEBHOOKS_PER_MEMBER:
            raise Conflict(
                gettext("At most %(max)s webhooks; delete one first.")
                % {"max": MAX_WEBHOOKS_PER_MEMBER}
            )
        user, key = actor_user_and_key(actor)
        webhook = Webhook.objects.create(
            member=member,
            url=url,
            events=events,
            secret=secret,
            user=user,
            api_key=key,
        )
        audit_record(
            actor=actor,
            action="webhook.create",
            obj=webhook,
            member=member,
            details={"url": url, "events": events},
        )
    return webhook, secret


def webhook_delete(*, actor: ActorLike, webhook: Webhook) -> None:
    """Deactivate: no new deliveries; pending ones fail on their next attempt."""
    with transaction.atomic():
        if Webhook.objects.filter(pk=webhook.pk, active=True).update(active=False):
            audit_record(
                actor=actor,
                action="webhook.delete",
                obj=webhook,
                member=webhook.member_id,
                details={"url": webhook.url},
            )


# -- queueing events -----------------------------------------------------------------


def events_queue(
    *, event: str, items: list[tuple[int, dict[str, Any], str]], now=None
) -> list[uuid.UUID]:
    """Queue `event` for each (member id, data, dedupe key) to the member's active
    webhooks subscribed to it: one read, one insert, tasks sent on commit.

    A non-empty dedupe key makes the event once-only per webhook (a re-run
    inserts nothing). Returns the delivery ids inserted or already present.
    """
    now = now or timezone.now()
    hooks: dict[int, list[int]] = defaultdict(list)
    for pk, member_id in Webhook.objects.filter(
        member_id__in={member_id for member_id, _, _ in items},
        active=True,
        events__contains=[event],
    ).values_list("pk", "member_id"):
        hooks[member_id].append(pk)
    deliveries: list[WebhookDelivery] = []
    for member_id, data, key in items:
        envelope = {
            "id": str(uuid.uuid4()),
            "type": event,
            "created_at": now.isoformat(),
            "data": data,
        }
        deliveries.extend(
            WebhookDelivery(
                webhook_id=hook_id,
                event=event,
                event_key=key,
                payload=envelope,
                created_at=now,
                next_attempt_at=now,
            )
            for hook_id in hooks.get(member_id, ())
        )
    if not deliveries:
        return []
    WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: _enqueue(ids))
    return ids


def _enqueue(delivery_ids: list[uuid.UUID], countdown: float | None = None) -> None:
    from reports.tasks import notify_deliver_webhook

    for delivery_id in delivery_ids:
        notify_deliver_webhook.apply_async((str(delivery_id),), countdown=countdown)


def batch_completed_queue(*, batch_id: int) -> list[uuid.UUID]:
    """`batch.completed` for a batch in a final status: ids and counts only."""
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None or not batch.is_final:
        return []
    data = {
        "batch_id": batch.pk,
        "status": batch.status,
        "validate_only": batch.validate_only,
        "rows_total": batch.rows_total,
        "rows_accepted": batch.rows_accepted,
        "rows_rejected": batch.rows_rejected,
        "rows_duplicate": batch.rows_duplicate,
        "rows_stale": batch.rows_stale,
        "records_created": batch.records_created,
        "records_updated": batch.records_updated,
        "records_deleted": batch.records_deleted,
        "subjects_touched": batch.subjects_touched,
        "received_at": batch.received_at.isoformat(),
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
    }
    with transaction.atomic():
        return events_queue(
            event=WebhookEvent.BATCH_COMPLETED,
            items=[(batch.member_id, data, f"batch.completed:{batch.pk}")],
        )


# -- delivering ----------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer other than 2xx: recorded and retried, not followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST once: (status code or None, error text)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 -- scheme checked in _check_url
    try:
        with _opener.open(request, timeout=settings.BUREAU_WEBHOOK_TIMEOUT) as answer:
            answer.read(4096)
            return answer.status, ""
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, f"HTTP {exc.code}"
    except urllib.error.URLError as exc:
        return None, str(exc.reason)[:_ERROR_MAX]
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:_ERROR_MAX]


def backoff(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: 30 s, 60 s, 120 s, … at most an hour."""
    exponent = min(max(attempts - 1, 0), 16)
    return timedelta(
        seconds=min(BACKOFF_BASE_SECONDS * 2**exponent, BACKOFF_CAP_SECONDS)
    )


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_at: datetime | None = None


def webhook_deliver(*, delivery_id: Any, now: datetime | None = None) -> Outcome | None:
    """Make one attempt if the delivery is pending and due. Returns the outcome
    (with `retry_at` when another attempt is scheduled), or None when there was
    nothing to do (done, not yet due, or another worker holds it)."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.BUREAU_WEBHOOK_TIMEOUT + 30)
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(next_attempt_at=lease)
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    webhook = delivery.webhook
    if not webhook.active:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=Status.FAILED, next_attempt_at=None, last_error="webhook deleted"
        )
        return Outcome(Status.FAILED)

    body = body_of(delivery.payload)
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": _USER_AGENT,
        "X-Bureau-Event": delivery.event,
        "X-Bureau-Delivery": str(delivery.pk),
        "X-Bureau-Signature": signature(
            secret=webhook.secret, timestamp=stamp, body=body
        ),
    }
    started = time.monotonic()
    code, error = None, _destination_problem(webhook.url)
    if not error:
        code, error = _post(webhook.url, body, headers)
    latency = int((time.monotonic() - started) * 1000)
    ok = code is not None and 200 <= code < 300
    attempts = delivery.attempts + 1

    outcome = Outcome(Status.DELIVERED)
    fields: dict[str, Any] = {
        "attempts": attempts,
        "last_status_code": code,
        "last_latency_ms": latency,
        "last_error": error,
        "next_attempt_at": None,
    }
    if ok:
        fields.update(status=Status.DELIVERED, delivered_at=now)
    else:
        retry_at = now + backoff(attempts)
        if retry_at > delivery.created_at + settings.BUREAU_WEBHOOK_GIVE_UP:
            outcome = Outcome(Status.FAILED)
            fields.update(
                status=Status.FAILED,
                last_error=f"gave up after {attempts} attempts: {error}"[:_ERROR_MAX],
            )
        else:
            outcome = Outcome(Status.PENDING, retry_at)
            fields.update(next_attempt_at=retry_at)
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            attempted_at=now,
            status_code=code,
            latency_ms=latency,
            error=error,
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    logger.info(
        "webhook attempt",
        extra={
            "kv": {
                "delivery": delivery.pk,
                "webhook": webhook.pk,
                "event": delivery.event,
                "attempt": attempts,
                "status": code,
                "ms": latency,
                "outcome": outcome.status,
            }
        },
    )
    return outcome
