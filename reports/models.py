"""Inquiries (every query, hit or miss) and the reports they produced."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Purpose(models.TextChoices):
    LOAN_APPROVAL = "loan_approval", "Loan approval"
    CREDIT_CARD_APPROVAL = "credit_card_approval", "Credit card approval"
    POST_LOAN_MANAGEMENT = "post_loan_management", "Post-loan management"
    GUARANTEE_CHECK = "guarantee_check", "Guarantee check"
    SELF_INQUIRY = "self_inquiry", "Self inquiry (by the subject)"
    DISPUTE_HANDLING = "dispute_handling", "Dispute handling"


# Purposes that compliance staff may use without a consent reference.
PURPOSES_WITHOUT_CONSENT = frozenset({Purpose.SELF_INQUIRY, Purpose.DISPUTE_HANDLING})


class Inquiry(models.Model):
    """One look-up of one person. The borrower can see it; misuse detection reads it.

    The queried number is kept only as its keyed hash (to spot enumeration), the
    name only as a hash; a hit keeps the report as it was answered.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    api_key = models.ForeignKey(
        "members.ApiKey",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    subject = models.ForeignKey(
        "records.Subject",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inquiries",
    )
    id_type = models.CharField(max_length=16)
    id_hash = models.CharField(max_length=64)
    id_masked = models.CharField(max_length=32)
    name_hash = models.CharField(max_length=64)
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    consent_reference = models.CharField(max_length=64, blank=True)
    hit = models.BooleanField()
    report = models.JSONField(null=True, blank=True, help_text="The answer, as given.")
    request_id = models.CharField(max_length=128, blank=True)
    screening = models.ForeignKey(
        "reports.Screening",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="inquiries",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hit=False) | Q(subject__isnull=False),
                name="inquiry_hit_has_subject",
            ),
        ]
        indexes = [
            # "Inquiries in the last 1/3/6 months" on every report.
            models.Index(
                fields=["subject", "-created_at"], name="inquiry_subject_time"
            ),
            # GET /inquiries/ and misuse detection: a member's inquiries over time.
            models.Index(fields=["member", "-created_at"], name="inquiry_member_time"),
            # Enumeration detection: many names tried for one number.
            models.Index(fields=["id_hash", "-created_at"], name="inquiry_idhash_time"),
            # Time windows over all members (dashboards, 30-day misuse rules). The
            # table is append-only in time order, so a tiny BRIN index serves.
            BrinIndex(fields=["created_at"], name="inquiry_created_brin"),
        ]

    def __str__(self) -> str:
        return f"inquiry {self.id} ({'hit' if self.hit else 'miss'})"


class Screening(models.Model):
    """A bulk check of many persons under one purpose and consent reference."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    api_key = models.ForeignKey(
        "members.ApiKey",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    consent_reference = models.CharField(max_length=64)
    file = models.FileField(upload_to="screenings/%Y/%m/", max_length=300)
    format = models.CharField(max_length=8)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.RECEIVED
    )
    progress = models.FloatField(default=0.0)
    persons_total = models.PositiveIntegerField(default=0)
    persons_found = models.PositiveIntegerField(default=0)
    persons_blacklisted = models.PositiveIntegerField(default=0)
    persons_invalid = models.PositiveIntegerField(default=0)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"screening {self.pk} ({self.status})"


class ScreeningResult(models.Model):
    """One line of a screening's results (the person's number is not kept)."""

    screening = models.ForeignKey(
        Screening, on_delete=models.CASCADE, related_name="results"
    )
    line = models.PositiveIntegerField()
    id_type = models.CharField(max_length=16)
    id_masked = models.CharField(max_length=32)
    error = models.CharField(max_length=200, blank=True)
    found = models.BooleanField(default=False)
    blacklisted = models.BooleanField(default=False)
    platforms_with_overdue = models.PositiveIntegerField(default=0)
    total_amount_overdue = models.DecimalField(
        max_digits=18, decimal_places=2, default=0
    )
    max_days_overdue = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["screening", "line"]
        constraints = [
            models.UniqueConstraint(
                fields=["screening", "line"], name="screeningresult_line"
            ),
        ]

    def __str__(self) -> str:
        return f"line {self.line}: {'found' if self.found else 'not found'}"


# -- Monitoring: watches and webhooks (docs/webhooks.md) ------------------------------


class Watch(models.Model):
    """A member monitors one subject under a consent reference.

    Creating a watch is not an Inquiry (no report is answered); it is audited as
    `watch.create`. `last_snapshot` holds the material profile figures last seen,
    so a change is detected whoever recomputed the profile. Deleting a watch sets
    `deleted_at` (kept for the audit trail); only one live watch per member and
    subject.
    """

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+"
    )
    subject = models.ForeignKey(
        "records.Subject", on_delete=models.PROTECT, related_name="watches"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The user who created the watch (or null: an API key did).",
    )
    api_key = models.ForeignKey(
        "members.ApiKey",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    consent_reference = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    last_snapshot = models.JSONField(
        default=dict, blank=True, help_text="Material profile figures last seen."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "subject"],
                condition=Q(deleted_at__isnull=True),
                name="watch_live_member_subject",
            ),
            models.CheckConstraint(
                condition=~Q(consent_reference=""), name="watch_has_consent"
            ),
        ]
        indexes = [
            # watches_check: the live watches on a chunk of aggregated subjects.
            models.Index(
                fields=["subject"],
                condition=Q(deleted_at__isnull=True),
                name="watch_live_subject",
            ),
            # GET /watches/: a member's live watches, newest first.
            models.Index(
                fields=["member", "-created_at"],
                condition=Q(deleted_at__isnull=True),
                name="watch_live_member_time",
            ),
        ]

    def __str__(self) -> str:
        return f"watch {self.pk} ({'deleted' if self.deleted_at else 'live'})"


class WebhookEvent(models.TextChoices):
    PROFILE_CHANGED = "profile.changed", "A watched profile changed materially"
    BATCH_COMPLETED = "batch.completed", "A batch reached a final status"


class Webhook(models.Model):
    """A member's endpoint for event deliveries.

    The secret is kept as generated (Bureau needs it in clear to sign every
    delivery); it is shown once in the creation response and never again (not in
    the API, not in the admin). Deleting a webhook sets `active` false: its
    deliveries stay for the record and pending ones are not attempted again.
    """

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+"
    )
    url = models.URLField(max_length=500)
    events = ArrayField(models.CharField(max_length=32, choices=WebhookEvent.choices))
    secret = models.CharField(max_length=100, editable=False)
    active = models.BooleanField(default=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    api_key = models.ForeignKey(
        "members.ApiKey",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Fan-out of an event: a member's active webhooks.
            models.Index(
                fields=["member"], condition=Q(active=True), name="webhook_active"
            ),
        ]

    def __str__(self) -> str:
        return f"webhook {self.pk} → {self.url}"


class WebhookDelivery(models.Model):
    """One event for one webhook, tried until delivered or given up."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=32, choices=WebhookEvent.choices)
    event_key = models.CharField(
        max_length=100,
        blank=True,
        help_text="Deduplicates an event queued twice (e.g. batch.completed:42).",
    )
    payload = models.JSONField()
    attempts = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    next_attempt_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Not tried before then (also the lease of a running attempt).",
    )
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "event_key"],
                condition=~Q(event_key=""),
                name="webhookdelivery_event_once",
            ),
        ]
        indexes = [
            # notify_webhooks_due: pending deliveries whose time has come.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhookdelivery_due",
            ),
            # A webhook's deliveries, newest first (admin, support).
            models.Index(
                fields=["webhook", "-created_at"], name="webhookdelivery_webhook"
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.event}, {self.status})"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery, whatever its outcome."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["delivery", "attempted_at", "id"]

    def __str__(self) -> str:
        return f"attempt {self.pk} of delivery {self.delivery_id}"
