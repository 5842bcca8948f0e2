"""Writes for members, users and API keys. Each is audited."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bureau.audit.services import AuditDetailsError, audit_record, refuse_identity
from bureau.core.actors import ActorLike
from bureau.core.errors import Conflict, ValidationFailed
from bureau.core.identity_shapes import mask_free_text
from bureau.core.roles import BUREAU_ROLES, MEMBER_ROLES, Role
from members import keycache, keys
from members.models import ApiKey, Member, User
from members.principals import actor_user_and_key

SCOPES = frozenset(ApiKey.Scope.values)
REASON_MAX = 500


def member_create(
    *, code: str, name: str, kind: str = Member.Kind.OTHER, actor: ActorLike = None
) -> Member:
    if kind not in Member.Kind.values:
        raise ValidationFailed(
            errors={
                "kind": [
                    _("Must be one of: %(choices)s.")
                    % {"choices": ", ".join(Member.Kind.values)}
                ]
            }
        )
    # A code is in every audit event about the member: no identity-shaped ones
    # (an all-digit 15-figure registration number would look like one).
    refuse_identity(code=code)
    try:
        with transaction.atomic():
            member = Member.objects.create(code=code, name=name, kind=kind)
            audit_record(
                actor=actor,
                action="member.create",
                obj=member,
                member=member,
                details={"code": code, "kind": kind},
            )
    except IntegrityError as exc:
        raise Conflict(
            _("A member with code '%(code)s' already exists.") % {"code": code}
        ) from exc
    return member


def _clean_reason(reason: str | None) -> str:
    """A reason is free text: an identity number or phone in it is masked (as in
    dispute claims and alert notes), not refused."""
    reason = mask_free_text((reason or "").strip())
    if not reason or len(reason) > REASON_MAX:
        raise ValidationFailed(
            errors={
                "reason": [
                    _("Give a reason (1–%(max)s characters).") % {"max": REASON_MAX}
                ]
            }
        )
    return reason


def _member_set_status(
    *, member: Member, to: str, reason: str, action: str, actor: ActorLike
) -> Member:
    """One conditional UPDATE: only a real change is written and audited."""
    reason = _clean_reason(reason)
    try:
        with transaction.atomic():
            changed = (
                Member.objects.filter(pk=member.pk)
                .exclude(status=to)
                .update(status=to, status_reason=reason)
            )
            if changed:
                audit_record(
                    actor=actor,
                    action=action,
                    obj=member,
                    member=member,
                    details={"code": member.code, "reason": reason},
                )
                # The member's keys are refused (or accepted) from the next request.
                keycache.forget_member(member.pk)
    except AuditDetailsError as exc:
        raise ValidationFailed(
            errors={
                "reason": [_("Leave identity numbers and phones out of the reason.")]
            }
        ) from exc
    member.refresh_from_db(fields=["status", "status_reason"])
    return member


def member_suspend(*, member: Member, reason: str, actor: ActorLike) -> Member:
    """Suspend a member: its users and keys are refused from the next request.
    Suspending a suspended member changes nothing."""
    return _member_set_status(
        member=member,
        to=Member.Status.SUSPENDED,
        reason=reason,
        action="member.suspend",
        actor=actor,
    )


def member_reinstate(*, member: Member, reason: str, actor: ActorLike) -> Member:
    """Lift a suspension (a decision too: it carries a reason). Reinstating an
    active member changes nothing."""
    return _member_set_status(
        member=member,
        to=Member.Status.ACTIVE,
        reason=reason,
        action="member.reinstate",
        actor=actor,
    )


def user_create(
    *,
    username: str,
    role: str,
    member: Member | None,
    password: str | None = None,
    email: str = "",
    actor: ActorLike = None,
) -> tuple[User, str | None]:
    """Create a login. Returns the user and the generated password (None if given)."""
    if role not in Role.values:
        raise ValidationFailed(
            errors={
                "role": [
                    _("Must be one of: %(choices)s.")
                    % {"choices": ", ".join(Role.values)}
                ]
            }
        )
    if role in MEMBER_ROLES and member is None:
        raise ValidationFailed(
            errors={"member": [_("Role '%(role)s' needs a member.") % {"role": role}]}
        )
    if role in BUREAU_ROLES and member is not None:
        raise ValidationFailed(
            errors={
                "member": [
                    _("Role '%(role)s' is for bureau staff only.") % {"role": role}
                ]
            }
        )
    refuse_identity(username=username)
    generated = None
    if password is None:
        generated = password = secrets.token_urlsafe(15)
    user = User(username=username, role=role, member=member, email=email)
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(errors={"password": list(exc.messages)}) from exc
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            audit_record(
                actor=actor,
                action="user.create",
                obj=user,
                member=member,
                details={"username": username, "role": role},
            )
    except IntegrityError as exc:
        raise Conflict(
            _("A user named '%(username)s' already exists.") % {"username": username}
        ) from exc
    return user, generated


def clean_expiry(expires_at: datetime | None) -> datetime | None:
    """A key's expiry as given (None: never), or a 400 when it is not ahead."""
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(errors={"expires_at": [_("Must be in the future.")]})
    return expires_at


def clean_networks(networks: Iterable[str]) -> list[str]:
    """CIDR networks as stored, or a 400 naming each one that is not."""
    cleaned, errors = [], []
    for network in networks:
        try:
            cleaned.append(str(ipaddress.ip_network(network.strip(), strict=False)))
        except ValueError:
            errors.append(
                _("'%(network)s' is not an IP network (use CIDR, e.g. 203.0.113.0/24).")
                % {"network": network}
            )
    if errors:
        raise ValidationFailed(errors={"allowed_networks": errors})
    return cleaned


def api_key_create(
    *,
    member: Member,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
    allowed_networks: Iterable[str] = (),
    actor: ActorLike = None,
) -> tuple[ApiKey, str]:
    """Issue a key. Returns the row and the full key (never retrievable again)."""
    scope_list = sorted(set(scopes))
    unknown = [s for s in scope_list if s not in SCOPES]
    if not scope_list or unknown:
        raise ValidationFailed(
            errors={
                "scopes": [
                    _("Choose one or more of: %(choices)s.")
                    % {"choices": ", ".join(sorted(SCOPES))}
                ]
            }
        )
    clean_expiry(expires_at)
    refuse_identity(name=name)
    networks = clean_networks(allowed_networks)
    secret = keys.new_secret()
    with transaction.atomic():
        key = ApiKey.objects.create(
            member=member,
            name=name,
            prefix=keys.new_prefix(),
            secret_hash=keys.hash_secret(secret),
            scopes=scope_list,
            expires_at=expires_at,
            allowed_networks=networks,
            created_by=actor_user_and_key(actor)[0],
        )
        audit_record(
            actor=actor,
            action="api_key.create",
            obj=key,
            member=member,
            details={"prefix": key.prefix, "name": name, "scopes": scope_list},
        )
    return key, keys.format_key(key.prefix, secret)


def api_key_revoke(*, key: ApiKey, actor: ActorLike = None) -> ApiKey:
    """Revoke once; revoking again changes nothing and is not audited twice."""
    now = timezone.now()
    with transaction.atomic():
        changed = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if changed:
            audit_record(
                actor=actor,
                action="api_key.revoke",
                obj=key,
                member=key.member_id,
                details={"prefix": key.prefix},
            )
            keycache.forget_key(key)
    key.refresh_from_db(fields=["revoked_at"])
    return key


def api_key_rotate(
    *, key: ApiKey, actor: ActorLike = None, overlap_hours: float | None = None
) -> tuple[ApiKey, str]:
    """Issue a successor with the same name, scopes, networks and expiry; the old
    key keeps working for the overlap (`BUREAU_KEY_ROTATION_OVERLAP_HOURS`) so
    member systems can switch without an outage, then expires.

    Returns the new row and its full key (shown once). A key is rotated once:
    rotate its successor next time.
    """
    if overlap_hours is None:
        overlap_hours = settings.BUREAU_KEY_ROTATION_OVERLAP_HOURS
    if not 0 <= overlap_hours <= 24 * 90:
        raise ValidationFailed(
            errors={"overlap_hours": [_("Between 0 and 2160 hours (90 days).")]}
        )
    now = timezone.now()
    with transaction.atomic():
        # Locked: two rotations of one key at once would both pass the checks.
        # NO KEY: a query's inquiry (a foreign key to the key) takes KEY SHARE at
        # commit while holding the audit chain lock this transaction will want.
        old = ApiKey.objects.select_for_update(no_key=True).get(pk=key.pk)
        if old.is_revoked:
            raise Conflict(_("A revoked key cannot be rotated; issue a new key."))
        if old.is_expired(now):
            raise Conflict(_("An expired key cannot be rotated; issue a new key."))
        if ApiKey.objects.filter(rotated_from=old).exists():
            raise Conflict(_("This key was rotated already; rotate its successor."))
        secret = keys.new_secret()
        new = ApiKey.objects.create(
            member_id=old.member_id,
            name=old.name,
            prefix=keys.new_prefix(),
            secret_hash=keys.hash_secret(secret),
            scopes=old.scopes,
            allowed_networks=old.allowed_networks,
            expires_at=old.expires_at,
            rotated_from=old,
            created_by=actor_user_and_key(actor)[0],
        )
        old_expires_at = now + timedelta(hours=overlap_hours)
        if old.expires_at is not None:
            old_expires_at = min(old.expires_at, old_expires_at)
        ApiKey.objects.filter(pk=old.pk).update(expires_at=old_expires_at)
        audit_record(
            actor=actor,
            action="api_key.rotate",
            obj=old,
            member=old.member_id,
            details={
                "prefix": old.prefix,
                "new_key_id": new.pk,
                "new_prefix": new.prefix,
                "old_expires_at": old_expires_at.isoformat(),
            },
        )
        keycache.forget_key(old)
    key.refresh_from_db(fields=["expires_at"])
    return new, keys.format_key(new.prefix, secret)


def api_key_touch(*, key: ApiKey, touch_claimed: bool = False) -> None:
    """Record use at most once a minute: one conditional UPDATE, no
    read-modify-write. `touch_claimed`: the key cache saw the write claimed
    lately (`keycache.lookup_key`).
    """
    now = timezone.now()
    horizon = now - timedelta(seconds=settings.BUREAU_API_KEY_TOUCH_SECONDS)
    if key.last_used_at is not None and key.last_used_at > horizon:
        return
    # Written lately by another request (a cached row does not show it): skip.
    if touch_claimed or not keycache.claim_touch(key):
        return
    ApiKey.objects.filter(pk=key.pk).exclude(last_used_at__gt=horizon).update(
        last_used_at=now
    )
    key.last_used_at = now
