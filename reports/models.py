"""Inquiries (every query, hit or miss) and the reports they produced."""

from __future__ import annotations

import uuid

from django.conf import settings
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
