"""Webhooks: registration, signed delivery to a real HTTP receiver, retries, give-up,
and batch.completed end to end through the real broker and worker."""

import hashlib
import hmac
import http.server
import json
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from bureau.audit.models import AuditEvent
from bureau.core.errors import ValidationFailed
from bureau.records.services.ingest import batch_fail
from reports.models import Webhook, WebhookAttempt, WebhookDelivery
from reports.selectors import webhooks_due
from reports.services.webhooks import (
    backoff,
    batch_completed_queue,
    events_queue,
    webhook_create,
    webhook_deliver,
)
from tests.conftest import bearer
from tests.factories import issue_key
from tests.records.helpers import csv_bytes, good_row, ingest, upload_file

WEBHOOKS = "/api/v1/webhooks/"


class Receiver:
    """A real HTTP server on 127.0.0.1 (ephemeral port) in a thread. It answers the
    queued status codes in turn (then the last one for ever) and keeps requests."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses) or [200]
        self.requests: list[dict] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                code = (
                    receiver.statuses.pop(0)
                    if len(receiver.statuses) > 1
                    else receiver.statuses[0]
                )
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                receiver.arrived.set()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(*statuses: int) -> Receiver:
        made.append(Receiver(*statuses))
        return made[-1]

    yield make
    for server in made:
        server.close()


def verify(secret: str, request: dict) -> dict:
    """What a member's receiver does: recompute the HMAC over "t.body"."""
    header = request["headers"]["X-Bureau-Signature"]
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(
        secret.encode(), f"{fields['t']}.".encode() + request["body"], hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"])
    assert abs(time.time() - int(fields["t"])) < 300
    return json.loads(request["body"])


def queue_one(member, data=None) -> WebhookDelivery:
    [delivery_id] = events_queue(
        event="profile.changed", items=[(member.pk, data or {"watch_id": 1}, "")]
    )
    return WebhookDelivery.objects.get(pk=delivery_id)


# -- registration ----------------------------------------------------------------------


@pytest.mark.django_db
def test_webhook_when_created_shows_secret_once_and_audits(api_client, acme_key):
    response = api_client.post(
        WEBHOOKS,
        {"url": "https://hooks.acme.example/b", "events": ["batch.completed"]},
        format="json",
        **bearer(acme_key[1]),
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert Webhook.objects.get().secret == body["secret"]
    listed = api_client.get(WEBHOOKS, **bearer(acme_key[1])).json()["results"]
    detail = api_client.get(f"{WEBHOOKS}{body['id']}/", **bearer(acme_key[1])).json()
    assert "secret" not in listed[0] and "secret" not in detail
    assert body["secret"] not in json.dumps(
        list(AuditEvent.objects.values_list("details", flat=True))
    )
    assert AuditEvent.objects.filter(action="webhook.create").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "events", "field"),
    [
        ("ftp://hooks.example/x", ["batch.completed"], "url"),
        ("https://user:pw@hooks.example/x", ["batch.completed"], "url"),
        ("not a url", ["batch.completed"], "url"),
        ("https://hooks.example.com/cb/13800138000", ["batch.completed"], "url"),
        ("https://hooks.example/?id=11010519491231002X", ["batch.completed"], "url"),
        ("https://hooks.example/x", [], "events"),
        ("https://hooks.example/x", ["record.deleted"], "events"),
    ],
)
def test_webhook_when_url_or_events_invalid_is_400(
    api_client, acme_key, url, events, field
):
    response = api_client.post(
        WEBHOOKS, {"url": url, "events": events}, format="json", **bearer(acme_key[1])
    )
    assert response.status_code == 400 and field in response.json()["errors"]


@pytest.mark.django_db
def test_webhook_when_private_address_outside_dev_is_refused(acme, settings):
    settings.BUREAU_WEBHOOK_ALLOW_PRIVATE = False
    for url in ("http://127.0.0.1:8080/h", "http://10.1.2.3/h", "http://localhost/h"):
        with pytest.raises(ValidationFailed) as info:
            webhook_create(
                actor="test", member=acme, url=url, events=["batch.completed"]
            )
        assert "url" in info.value.errors


@pytest.mark.django_db
def test_webhook_when_analyst_or_stranger_tries_is_refused(
    api_client, acme_key, bob, charlie
):
    created = api_client.post(
        WEBHOOKS,
        {"url": "https://hooks.acme.example/b", "events": ["profile.changed"]},
        format="json",
        **bearer(acme_key[1]),
    ).json()
    api_client.force_login(bob)  # analysts watch, only member admins hook
    assert api_client.get(WEBHOOKS).status_code == 403
    api_client.force_login(charlie)
    url = f"{WEBHOOKS}{created['id']}/"
    assert api_client.get(url).status_code == 404
    assert api_client.delete(url).status_code == 404
    assert Webhook.objects.get().active


@pytest.mark.django_db
def test_webhook_when_deleted_by_admin_stops_deliveries(api_client, acme, alice):
    api_client.force_login(alice)
    created = api_client.post(
        WEBHOOKS,
        {"url": "https://hooks.acme.example/b", "events": ["profile.changed"]},
        format="json",
    ).json()
    delivery = queue_one(acme)
    assert api_client.delete(f"{WEBHOOKS}{created['id']}/").status_code == 204
    assert api_client.get(WEBHOOKS).json()["results"] == []
    assert events_queue(event="profile.changed", items=[(acme.pk, {}, "")]) == []
    assert webhook_deliver(delivery_id=delivery.pk).status == "failed"
    assert WebhookAttempt.objects.count() == 0


@pytest.mark.django_db
def test_webhook_when_key_lacks_monitor_scope_is_403(api_client, acme):
    _, key = issue_key(acme, scopes=("upload",), name="upload-only")
    response = api_client.get(WEBHOOKS, **bearer(key))
    assert response.status_code == 403 and response.json()["code"] == "scope_missing"


# -- delivery --------------------------------------------------------------------------


@pytest.mark.django_db
def test_delivery_when_receiver_answers_200_is_signed_and_delivered(acme, receiver):
    server = receiver(200)
    _, secret = webhook_create(
        actor="test", member=acme, url=server.url, events=["profile.changed"]
    )
    delivery = queue_one(acme, {"watch_id": 7, "changes": ["new_overdue"]})

    outcome = webhook_deliver(delivery_id=delivery.pk)

    assert outcome.status == "delivered" and outcome.retry_at is None
    [request] = server.requests
    headers = request["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Bureau-Event"] == "profile.changed"
    assert headers["X-Bureau-Delivery"] == str(delivery.pk)
    body = verify(secret, request)
    assert body["type"] == "profile.changed"
    assert body["data"] == {"watch_id": 7, "changes": ["new_overdue"]}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        "delivered",
        1,
        200,
    )
    assert delivery.delivered_at is not None and delivery.last_latency_ms is not None
    assert webhook_deliver(delivery_id=delivery.pk) is None  # done: nothing to do
    assert len(server.requests) == 1


@pytest.mark.django_db
def test_delivery_when_receiver_answers_500_then_200_is_retried_and_delivered(
    acme, receiver
):
    server = receiver(500, 200)
    _, secret = webhook_create(
        actor="test", member=acme, url=server.url, events=["profile.changed"]
    )
    delivery = queue_one(acme)

    first = webhook_deliver(delivery_id=delivery.pk)
    assert first.status == "pending" and first.retry_at is not None
    assert webhook_deliver(delivery_id=delivery.pk) is None  # not due yet
    second = webhook_deliver(delivery_id=delivery.pk, now=first.retry_at)

    assert second.status == "delivered"
    attempts = list(delivery.attempt_log.values_list("status_code", "error"))
    assert attempts == [(500, "HTTP 500"), (200, "")]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    ids = {r["headers"]["X-Bureau-Delivery"] for r in server.requests}
    assert ids == {str(delivery.pk)}  # the same delivery id on every attempt
    for request in server.requests:
        verify(secret, request)


@pytest.mark.django_db
def test_delivery_when_receiver_always_fails_gives_up_after_window(
    acme, receiver, settings
):
    settings.BUREAU_WEBHOOK_GIVE_UP = timedelta(minutes=10)
    server = receiver(500)
    webhook_create(
        actor="test", member=acme, url=server.url, events=["profile.changed"]
    )
    delivery = queue_one(acme)

    now, outcomes = timezone.now(), []
    while True:
        outcome = webhook_deliver(delivery_id=delivery.pk, now=now)
        outcomes.append(outcome.status)
        if outcome.retry_at is None:
            break
        now = outcome.retry_at  # no real sleeping: time is passed in

    # 30 s, 60 s, 120 s, 240 s after creation: the next (480 s) would pass 10 min.
    assert outcomes == ["pending"] * 4 + ["failed"]
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 5
    assert delivery.last_error.startswith("gave up after 5 attempts")
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 5
    assert len(server.requests) == 5
    assert (
        webhook_deliver(delivery_id=delivery.pk, now=now + timedelta(hours=1)) is None
    )


@pytest.mark.django_db
def test_delivery_when_receiver_unreachable_records_the_error(acme, receiver):
    server = receiver(200)
    url = server.url
    server.close()  # nothing listens there any more
    webhook_create(actor="test", member=acme, url=url, events=["profile.changed"])
    delivery = queue_one(acme)
    assert webhook_deliver(delivery_id=delivery.pk).status == "pending"
    [attempt] = delivery.attempt_log.all()
    assert attempt.status_code is None and "refused" in attempt.error.lower()


def test_backoff_when_attempts_grow_doubles_up_to_an_hour():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 8, 50)] == [
        30,
        60,
        120,
        3600,
        3600,
    ]


@pytest.mark.django_db
def test_sweep_when_retry_message_lost_finds_overdue_pending_deliveries(acme):
    webhook_create(
        actor="test",
        member=acme,
        url="https://hooks.acme.example/b",
        events=["profile.changed"],
    )
    delivery = queue_one(acme)
    assert webhooks_due() == []  # just queued: its own task is on the way
    assert webhooks_due(now=timezone.now() + timedelta(minutes=3)) == [delivery.pk]


# -- batch.completed -------------------------------------------------------------------


@pytest.mark.django_db
def test_batch_completed_when_queued_twice_is_one_delivery_without_personal_data(acme):
    webhook_create(
        actor="test",
        member=acme,
        url="https://hooks.acme.example/b",
        events=["batch.completed"],
    )
    batch = ingest(acme, csv_bytes([good_row()]))
    batch_completed_queue(batch_id=batch.pk)
    batch_completed_queue(batch_id=batch.pk)
    [delivery] = WebhookDelivery.objects.all()
    data = delivery.payload["data"]
    assert (data["batch_id"], data["status"], data["rows_accepted"]) == (
        batch.pk,
        "completed",
        1,
    )
    text = json.dumps(delivery.payload, ensure_ascii=False)
    for personal in ("张三", "1101", "ACC-1", "13812345678"):
        assert personal not in text


@pytest.mark.django_db
def test_batch_completed_when_member_subscribed_to_other_events_is_not_queued(acme):
    webhook_create(
        actor="test",
        member=acme,
        url="https://hooks.acme.example/b",
        events=["profile.changed"],
    )
    batch = ingest(acme, csv_bytes([good_row()]))
    assert batch_completed_queue(batch_id=batch.pk) == []


@pytest.mark.django_db
def test_batch_fail_when_batch_already_final_announces_nothing(
    acme, django_capture_on_commit_callbacks
):
    batch = ingest(acme, csv_bytes([good_row()]))
    with django_capture_on_commit_callbacks() as callbacks:
        batch_fail(batch_id=batch.pk, reason="late")
    assert callbacks == []


@pytest.mark.celery_worker
def test_batch_when_completed_through_worker_arrives_at_receiver(
    celery_worker, api_client, acme, receiver
):
    server = receiver(200)
    _, key = issue_key(acme)
    created = api_client.post(
        WEBHOOKS,
        {"url": server.url, "events": ["batch.completed", "profile.changed"]},
        format="json",
        **bearer(key),
    ).json()
    response = api_client.post(
        "/api/v1/batches/",
        {"file": upload_file("r.csv", csv_bytes([good_row()]))},
        format="multipart",
        **bearer(key),
    )
    assert response.status_code == 202

    assert server.arrived.wait(30), "no delivery reached the receiver"
    [request] = server.requests
    body = verify(created["secret"], request)
    assert request["headers"]["X-Bureau-Event"] == "batch.completed"
    assert body["data"]["batch_id"] == response.json()["id"]
    assert body["data"]["status"] == "completed"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        delivery = WebhookDelivery.objects.get()
        if delivery.status == "delivered":
            break
        time.sleep(0.1)
    assert delivery.status == "delivered" and delivery.attempts == 1
