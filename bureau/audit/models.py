"""Append-only, hash-chained audit trail.

PostgreSQL triggers refuse UPDATE, DELETE (migration 0003) and TRUNCATE (0007).
Each row stores hash = HMAC-SHA256(chain key, prev_hash + canonical JSON of its
own fields) (bureau/audit/chain.py), so altering or removing any row breaks the
chain from there on, and only the holder of the key, which the database never
sees, could mend it. Signed checkpoints outside the database
(bureau/audit/checkpoints.py) show what was there: `manage.py audit_verify`
finds a truncation, a deleted tail, a gap or a rewritten event.
Events are ordered by `sequence`; `created_at` is stamped before the writers'
lock, so two concurrent events may be out of time order by the wait.

Also here: misuse alerts (`Alert`), which compliance updates, so not append-only.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class AuditEvent(models.Model):
    class ActorType(models.TextChoices):
        USER = "user", "User"
        API_KEY = "api_key", "API key"
        SYSTEM = "system", "System"
        ANONYMOUS = "anonymous", "Anonymous"

    sequence = models.BigIntegerField(unique=True, editable=False)
    created_at = models.DateTimeField(editable=False)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    # No database FKs: the trail must outlive the users, keys and members it names.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    actor_key = models.ForeignKey(
        "members.ApiKey",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200, blank=True)
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    ip = models.GenericIPAddressField(null=True)
    details = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # Which chain key made `hash` (bureau/audit/keys.py); 0 for the events written
    # before the chain was keyed, which keep their plain SHA-256.
    chain_key_version = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-sequence"]
        indexes = [
            # audit-events API filters: by member / actor / action, newest first.
            models.Index(fields=["member", "-sequence"], name="audit_member_seq"),
            models.Index(fields=["actor_user", "-sequence"], name="audit_user_seq"),
            models.Index(fields=["action", "-sequence"], name="audit_action_seq"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["created_at"], name="audit_created"),
        ]

    def __str__(self) -> str:
        return (
            f"#{self.sequence} {self.action} by {self.actor_label or self.actor_type}"
        )


class Alert(models.Model):
    """A pattern of use that looks like misuse, raised for compliance to look at.

    Raised by `misuse_detect` (bureau/audit/misuse.py). `evidence` holds the counts,
    ratios and hashes that justify it: never an identity number or a name. Unlike
    AuditEvent an alert is updatable (acknowledged, dismissed); each change is
    audited as "alert.update".
    """

    class Rule(models.TextChoices):
        VOLUME_SPIKE = "volume_spike", "Volume spike"
        ENUMERATION = "enumeration", "Enumeration"
        CONTRIBUTION_IMBALANCE = (
            "contribution_imbalance",
            "Query-to-contribution imbalance",
        )
        PURPOSE_DRIFT = "purpose_drift", "Purpose drift"

    class Severity(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        DISMISSED = "dismissed", "Dismissed"

    rule = models.CharField(max_length=32, choices=Rule.choices)
    # PROTECT: an alert is evidence; the member or key it names cannot vanish under it.
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    api_key = models.ForeignKey(
        "members.ApiKey",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    severity = models.CharField(max_length=8, choices=Severity.choices)
    evidence = models.JSONField(default=dict)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The detection job is idempotent: one alert per rule, member/key and
            # window, however often it runs (NULL key counts as a value).
            models.UniqueConstraint(
                fields=["rule", "member", "api_key", "window_start", "window_end"],
                nulls_distinct=False,
                name="alert_rule_window_unique",
            ),
            models.CheckConstraint(
                condition=Q(window_end__gt=F("window_start")),
                name="alert_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(member__isnull=False) | Q(api_key__isnull=False),
                name="alert_names_member_or_key",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "acknowledged", "dismissed"]),
                name="alert_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(handled_at__isnull=False),
                name="alert_handled_has_time",
            ),
        ]
        indexes = [
            # GET /alerts/?status=open: the work queue, newest first.
            models.Index(fields=["status", "-created_at"], name="alert_status_time"),
            # GET /alerts/?member=…: one member's alerts, newest first.
            models.Index(fields=["member", "-created_at"], name="alert_member_time"),
        ]

    def __str__(self) -> str:
        return f"alert {self.pk} {self.rule} ({self.status})"
