"""Member platforms, their users and their API keys."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from bureau.core.actors import Actor, ActorKind

# Role is the user field's choices; its names and groups live in bureau.core.roles.
from bureau.core.roles import BUREAU_ROLES, MEMBER_ROLES, Role


class Member(models.Model):
    class Kind(models.TextChoices):
        CONSUMER_FINANCE = "consumer_finance", "Consumer finance company"
        MICRO_LENDER = "micro_lender", "Micro-lender"
        LOAN_FACILITATOR = "loan_facilitator", "Loan facilitator"
        BANK = "bank", "Bank"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    code = models.SlugField(
        max_length=32, unique=True, help_text="Short stable identifier, e.g. 'acme'."
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.OTHER)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    status_reason = models.CharField(max_length=500, blank=True)
    contributes_since = models.DateField(
        null=True, blank=True, help_text="Date of the member's first accepted batch."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "suspended"]),
                name="member_status_valid",
            ),
            models.CheckConstraint(condition=~Q(code=""), name="member_code_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class User(AbstractUser):
    """A person who logs in: member staff (member set) or bureau staff (member null)."""

    member = models.ForeignKey(
        Member,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text="Empty for bureau staff.",
    )
    role = models.CharField(max_length=32, choices=Role.choices)

    class Meta:
        constraints = [
            # Member roles belong to a member; bureau roles to none (superusers aside).
            models.CheckConstraint(
                condition=(
                    Q(role__in=sorted(MEMBER_ROLES), member__isnull=False)
                    | Q(role__in=sorted(BUREAU_ROLES), member__isnull=True)
                    | Q(role="", is_superuser=True, member__isnull=True)
                ),
                name="user_role_matches_member",
            ),
        ]

    @property
    def is_bureau_staff(self) -> bool:
        return self.member_id is None and (
            self.role in BUREAU_ROLES or self.is_superuser
        )

    @property
    def actor(self) -> Actor:
        return Actor(
            kind=ActorKind.USER,
            label=self.get_username(),
            user_id=self.pk,
            member_id=self.member_id,
        )


class ApiKey(models.Model):
    """A member system's credential. Only an HMAC of the secret is stored."""

    class Scope(models.TextChoices):
        UPLOAD = "upload", "Upload records"
        QUERY = "query", "Query profiles"
        MONITOR = "monitor", "Monitor (watches, webhooks)"

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = ArrayField(models.CharField(max_length=16, choices=Scope.choices))
    allowed_networks = ArrayField(
        models.CharField(max_length=64),
        default=list,
        blank=True,
        help_text="Optional CIDR networks the key may be used from; empty = anywhere.",
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The key this one replaced (services.api_key_rotate); a key has at most one
    # successor, the database says so too.
    rotated_from = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="rotated_to",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scopes__contained_by=["upload", "query", "monitor"])
                & ~Q(scopes=[]),
                name="apikey_scopes_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member.code}/{self.name} (bk_{self.prefix}_…)"

    @property
    def display(self) -> str:
        return f"bk_{self.prefix}_…"

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (
            now or timezone.now()
        )

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def actor(self) -> Actor:
        return Actor(
            kind=ActorKind.API_KEY,
            label=f"key:{self.prefix}",
            key_id=self.pk,
            member_id=self.member_id,
        )
