"""Append-only, hash-chained audit trail.

A PostgreSQL trigger (migration 0002) refuses UPDATE and DELETE. Each row stores
hash = sha256(prev_hash + canonical JSON of its own fields), so altering or removing
any row breaks the chain from there on; `manage.py audit_verify` finds where.
"""

from django.conf import settings
from django.db import models


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
