"""Writes for members, users and API keys. Each is audited."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bureau.audit.services import audit_record
from bureau.core.errors import Conflict, ValidationFailed
from members import keys
from members.models import BUREAU_ROLES, MEMBER_ROLES, ApiKey, Member, Role, User

SCOPES = frozenset(ApiKey.Scope.values)


def member_create(
    *, code: str, name: str, kind: str = Member.Kind.OTHER, actor: Any = None
) -> Member:
    if kind not in Member.Kind.values:
        raise ValidationFailed(
            errors={"kind": [f"Must be one of: {', '.join(Member.Kind.values)}."]}
        )
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
        raise Conflict(f"A member with code '{code}' already exists.") from exc
    return member


def user_create(
    *,
    username: str,
    role: str,
    member: Member | None,
    password: str | None = None,
    email: str = "",
    actor: Any = None,
) -> tuple[User, str | None]:
    """Create a login. Returns the user and the generated password (None if given)."""
    if role not in Role.values:
        raise ValidationFailed(
            errors={"role": [f"Must be one of: {', '.join(Role.values)}."]}
        )
    if role in MEMBER_ROLES and member is None:
        raise ValidationFailed(errors={"member": [f"Role '{role}' needs a member."]})
    if role in BUREAU_ROLES and member is not None:
        raise ValidationFailed(
            errors={"member": [f"Role '{role}' is for bureau staff only."]}
        )
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
        raise Conflict(f"A user named '{username}' already exists.") from exc
    return user, generated


def _clean_networks(networks: Iterable[str]) -> list[str]:
    cleaned, errors = [], []
    for network in networks:
        try:
            cleaned.append(str(ipaddress.ip_network(network.strip(), strict=False)))
        except ValueError:
            errors.append(
                f"'{network}' is not an IP network (use CIDR, e.g. 203.0.113.0/24)."
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
    actor: Any = None,
) -> tuple[ApiKey, str]:
    """Issue a key. Returns the row and the full key (never retrievable again)."""
    scope_list = sorted(set(scopes))
    unknown = [s for s in scope_list if s not in SCOPES]
    if not scope_list or unknown:
        raise ValidationFailed(
            errors={"scopes": [f"Choose one or more of: {', '.join(sorted(SCOPES))}."]}
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(errors={"expires_at": ["Must be in the future."]})
    networks = _clean_networks(allowed_networks)
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
            created_by=actor if isinstance(actor, User) else None,
        )
        audit_record(
            actor=actor,
            action="api_key.create",
            obj=key,
            member=member,
            details={"prefix": key.prefix, "name": name, "scopes": scope_list},
        )
    return key, keys.format_key(key.prefix, secret)


def api_key_revoke(*, key: ApiKey, actor: Any = None) -> ApiKey:
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
    key.refresh_from_db(fields=["revoked_at"])
    return key


def api_key_touch(*, key: ApiKey) -> None:
    """Record use at most once a minute: one conditional UPDATE, no
    read-modify-write.
    """
    now = timezone.now()
    horizon = now - timezone.timedelta(seconds=settings.BUREAU_API_KEY_TOUCH_SECONDS)
    if key.last_used_at is not None and key.last_used_at > horizon:
        return
    ApiKey.objects.filter(pk=key.pk).exclude(last_used_at__gt=horizon).update(
        last_used_at=now
    )
    key.last_used_at = now
