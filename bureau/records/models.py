"""Furnished records and the people they are about.

Identity numbers are never stored: a Subject is keyed by a keyed HMAC of the
normalised number (`id_hash`, with the key version that made it) and shows only a
masked form. A Record is one member's account for one subject; bulk writes go
through SQL in services/merge.py, never per-row ORM saves.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

ID_TYPES = [
    ("resident_id", "PRC resident ID"),
    ("passport", "Passport"),
    ("uscc", "Unified social credit code (enterprise)"),
    ("other", "Other"),
]


class Subject(models.Model):
    id_type = models.CharField(max_length=16, choices=ID_TYPES)
    id_hash = models.CharField(max_length=64, help_text="Keyed HMAC-SHA256 (hex).")
    key_version = models.PositiveSmallIntegerField(default=1)
    id_masked = models.CharField(max_length=32)
    name = models.CharField(max_length=100, help_text="Name on the newest report.")
    name_as_of = models.DateField()
    name_seq = models.BigIntegerField(
        db_default=0,
        help_text="Furnishing order of the report the name comes from (see "
        "Record.furnished_seq): breaks name_as_of ties, the later report wins.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["id_type", "id_hash"], name="subject_identity_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id_masked} {self.name}"


class Batch(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        COMPLETED_WITH_ERRORS = "completed_with_errors", "Completed with errors"
        FAILED = "failed", "Failed"

    FINAL_STATUSES = frozenset({"completed", "completed_with_errors", "failed"})

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="batches"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_with_key = models.ForeignKey(
        "members.ApiKey",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        max_length=24, choices=Status.choices, default=Status.RECEIVED
    )
    file = models.FileField(upload_to="batches/%Y/%m/", max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=8)
    encoding = models.CharField(
        max_length=16, blank=True, help_text="Declared or detected."
    )
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)
    validate_only = models.BooleanField(default=False)
    strict = models.BooleanField(default=False)
    strict_passed = models.BooleanField(
        default=False, help_text="Strict batches: the validation pass found no refusal."
    )

    verified_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the whole file was read through (decompressed, decoded, "
        "within the limits) before anything was written.",
    )
    progress = models.FloatField(default=0.0)
    chunks_done = models.PositiveIntegerField(
        default=0, help_text="Resume point after a crash."
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_accepted = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    rows_duplicate = models.PositiveIntegerField(default=0)
    rows_stale = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    records_created = models.PositiveIntegerField(default=0)
    records_updated = models.PositiveIntegerField(default=0)
    records_deleted = models.PositiveIntegerField(default=0)
    subjects_touched = models.PositiveIntegerField(default=0)
    failure_reason = models.TextField(blank=True)

    received_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # Same content from the same member is the same batch (idempotent upload).
            models.UniqueConstraint(
                fields=["member", "sha256", "validate_only"],
                name="batch_member_content_unique",
            ),
            models.UniqueConstraint(
                fields=["member", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="batch_member_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=1),
                name="batch_progress_range",
            ),
        ]
        indexes = [
            # GET /batches/?status=…: own batches, newest first.
            models.Index(
                fields=["member", "status", "-received_at"], name="batch_member_status"
            ),
            # Reciprocity: a member's latest accepted batch.
            models.Index(
                fields=["member", "-finished_at"], name="batch_member_finished"
            ),
        ]

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.member_id}, {self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES


class BatchError(models.Model):
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="errors")
    row = models.PositiveIntegerField(help_text="1 = first data row.")
    column = models.CharField(max_length=64, blank=True)
    code = models.CharField(max_length=32)
    message = models.CharField(max_length=300)
    value = models.CharField(
        max_length=120, blank=True, help_text="Masked for identities."
    )

    class Meta:
        ordering = ["batch", "row", "id"]
        indexes = [
            # GET /batches/{id}/errors/?code=…: a batch's errors in row order.
            models.Index(fields=["batch", "row"], name="batcherror_batch_row"),
            models.Index(fields=["batch", "code"], name="batcherror_batch_code"),
        ]

    def __str__(self) -> str:
        return f"row {self.row} {self.column}: {self.code}"


class Record(models.Model):
    """One member's account for one subject; the newest report (by as_of) wins."""

    # Indexes are few on purpose: each one costs every bulk insert. The unique key
    # (member, account_no, subject) serves member lookups; subject has its own.
    # Member and subject are not checked by the database either: a checked FK is a
    # trigger per inserted row (measured: 5.6 µs a row for the two, more than the
    # insert itself). The merge takes both ids from the same transaction (the
    # batch's member, subjects it has just upserted), and the ORM still PROTECTs:
    # deleting a member or subject that has records raises ProtectedError.
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    subject = models.ForeignKey(
        Subject, on_delete=models.PROTECT, related_name="records", db_constraint=False
    )
    account_no = models.CharField(max_length=64)
    role = models.CharField(max_length=16)
    loan_type = models.CharField(max_length=16)
    currency = models.CharField(max_length=3)
    principal = models.DecimalField(max_digits=16, decimal_places=2)
    balance = models.DecimalField(max_digits=16, decimal_places=2)
    amount_overdue = models.DecimalField(max_digits=16, decimal_places=2)
    days_overdue = models.PositiveIntegerField()
    status = models.CharField(max_length=16)
    classification = models.CharField(max_length=16)
    opened_on = models.DateField()
    due_on = models.DateField(null=True, blank=True)
    first_delinquency_on = models.DateField(null=True, blank=True)
    as_of = models.DateField()
    phone_hash = models.CharField(max_length=64, blank=True)
    phone_masked = models.CharField(max_length=24, blank=True)
    row_hash = models.CharField(
        max_length=32,
        help_text="Digest of the reported values: an identical re-send is unchanged.",
    )
    furnished_seq = models.BigIntegerField(
        db_default=0,  # the bulk merge inserts with SQL
        help_text="Furnishing order of the report on file: batch id × 2³² + row "
        "number (a correction: after the member's last batch). Between reports "
        "with the same as_of, the greater wins.",
    )
    suppressed = models.BooleanField(
        db_default=False,  # the bulk merge inserts with SQL
        help_text="Left out of profiles while a dispute is unanswered past its "
        "deadline.",
    )
    # The batch that last wrote the record: a pointer, not a constraint (a checked
    # FK per row is measurable at commit in bulk ingest).
    batch = models.ForeignKey(
        Batch,
        on_delete=models.DO_NOTHING,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "account_no", "subject"],
                name="record_member_account_subject",
            ),
            models.CheckConstraint(
                condition=Q(principal__gte=0)
                & Q(balance__gte=0)
                & Q(amount_overdue__gte=0),
                name="record_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(days_overdue__lte=9999), name="record_days_overdue_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_no} ({self.status}, {self.as_of})"


class RecordTombstone(models.Model):
    """A delete's as_of, kept so that an older upsert arriving later stays deleted."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="+")
    account_no = models.CharField(max_length=64)
    as_of = models.DateField()
    furnished_seq = models.BigIntegerField(
        db_default=0, help_text="Furnishing order of the delete (Record.furnished_seq)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "account_no", "subject"],
                name="tombstone_member_account_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"deleted {self.account_no} as of {self.as_of}"


class RecordMonth(models.Model):
    """One month of an account's status history (24-month grid): the report with
    the greatest (as_of, furnished_seq) that covers the month wins."""

    # The largest table (up to 24 rows a record): the key is its only index and it
    # carries no checked FK. Only the merge SQL writes it, and it deletes a record's
    # months with the record (tests assert no orphans).
    pk = models.CompositePrimaryKey("record", "month")
    record = models.ForeignKey(
        Record,
        on_delete=models.DO_NOTHING,
        related_name="months",
        db_index=False,
        db_constraint=False,
    )
    month = models.DateField(help_text="First day of the month.")
    status = models.CharField(max_length=1)
    as_of = models.DateField()
    furnished_seq = models.BigIntegerField(
        db_default=0, help_text="Furnishing order of the report (Record.furnished_seq)."
    )

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.status}"


class BatchSubject(models.Model):
    """Subjects whose records a batch changed: exact `subjects_touched`, and the
    hand-off list for aggregation and watch alerts."""

    pk = models.CompositePrimaryKey("batch", "subject")
    batch = models.ForeignKey(
        Batch,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    subject = models.ForeignKey(
        Subject,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    def __str__(self) -> str:
        return f"batch {self.batch_id} subject {self.subject_id}"


class Profile(models.Model):
    """One cross-platform debt profile per subject, derived from its records by
    services/aggregate.py (incrementally, or all at once by rebuild_profiles)."""

    subject = models.OneToOneField(
        Subject, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    platforms_total = models.PositiveIntegerField(default=0)
    platforms_with_overdue = models.PositiveIntegerField(default=0)
    accounts_total = models.PositiveIntegerField(default=0)
    accounts_overdue = models.PositiveIntegerField(default=0)
    guarantees_total = models.PositiveIntegerField(
        default=0, help_text="Accounts where the subject is guarantor (not in totals)."
    )
    guarantees_overdue = models.PositiveIntegerField(default=0)
    total_principal = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    total_balance = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    total_amount_overdue = models.DecimalField(
        max_digits=18, decimal_places=2, default=0
    )
    max_days_overdue = models.PositiveIntegerField(default=0)
    worst_status = models.CharField(max_length=16, blank=True)
    worst_classification = models.CharField(max_length=16, blank=True)
    first_delinquency_on = models.DateField(null=True, blank=True)
    last_reported_on = models.DateField(null=True, blank=True)
    blacklisted = models.BooleanField(default=False)
    blacklist_reasons = ArrayField(
        models.CharField(max_length=32),
        default=list,
        blank=True,
        help_text="Blacklist clauses that fired (BUREAU_BLACKLIST settings).",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # Bureau dashboards and screening exports filter on blacklisted.
            models.Index(fields=["blacklisted"], name="profile_blacklisted"),
        ]

    def __str__(self) -> str:
        return f"profile of subject {self.subject_id}"


class Dispute(models.Model):
    """A data subject contests one record (opened by compliance). The furnisher
    must correct or confirm it within ANSWER_DAYS, or the record is suppressed
    from profiles until it does (services/disputes.py)."""

    ANSWER_DAYS = 20

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CORRECTED = "corrected", "Corrected"
        CONFIRMED = "confirmed", "Confirmed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    ANSWERED_STATUSES = ("corrected", "confirmed")

    # The record goes with its disputes, also when bulk SQL deletes it (a furnisher's
    # delete rows, the retention purge): the database constraint is ON DELETE
    # CASCADE, made by migration 0003 (Django 5.2 cannot declare it on the field).
    record = models.ForeignKey(
        Record,
        on_delete=models.CASCADE,
        related_name="disputes",
        db_constraint=False,
    )
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The furnisher of the record, who must answer.",
    )
    claim = models.CharField(max_length=2000)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    opened_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_with_key = models.ForeignKey(
        "members.ApiKey",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    answer_note = models.CharField(max_length=2000, blank=True)
    suppressed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the deadline passed unanswered."
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["record"],
                condition=Q(status="open"),
                name="dispute_one_open_per_record",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "corrected", "confirmed", "withdrawn"]),
                name="dispute_status_valid",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status__in=["corrected", "confirmed"], answered_at__isnull=False)
                    | Q(status__in=["open", "withdrawn"], answered_at__isnull=True)
                ),
                name="dispute_answered_when_answered",
            ),
            models.CheckConstraint(
                condition=Q(due_at__gt=models.F("opened_at")),
                name="dispute_due_after_opened",
            ),
            models.CheckConstraint(condition=~Q(claim=""), name="dispute_claim_given"),
        ]
        indexes = [
            # disputes_suppress_overdue: open disputes past their deadline.
            models.Index(
                fields=["due_at"], condition=Q(status="open"), name="dispute_open_due"
            ),
            # GET /disputes/ for a furnisher: its open disputes, soonest due first.
            models.Index(
                fields=["member", "status", "due_at"], name="dispute_member_status"
            ),
            # build_report: a subject's disputes.
            models.Index(fields=["subject", "-opened_at"], name="dispute_subject"),
        ]

    def __str__(self) -> str:
        return f"dispute {self.pk} on record {self.record_id} ({self.status})"


class SubjectStatement(models.Model):
    """The subject's own words (≤ 500 characters), shown on every report."""

    MAX_LENGTH = 500

    subject = models.ForeignKey(
        Subject, on_delete=models.PROTECT, related_name="statements"
    )
    text = models.CharField(max_length=MAX_LENGTH)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="statement_text_given"),
        ]
        indexes = [
            # build_report: a subject's statements in force.
            models.Index(
                fields=["subject", "created_at"],
                condition=Q(withdrawn_at__isnull=True),
                name="statement_subject_current",
            ),
        ]

    def __str__(self) -> str:
        return f"statement {self.pk} of subject {self.subject_id}"
