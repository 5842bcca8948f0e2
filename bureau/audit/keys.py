"""The audit trail's secrets, from settings only: never stored in the database.

- Chain keys (`BUREAU_AUDIT_CHAIN_KEY*`): HMAC-SHA256 keys by version. New events
  are linked with the current version; every version that events carry stays
  configured so they can be verified. Version 0 is the legacy unkeyed hash.
- The checkpoint signing key (`BUREAU_AUDIT_CHECKPOINT_KEY*`): an Ed25519 private
  key; checkpoints of older versions are verified with public keys only, so a
  retired signing key can be destroyed, and anyone given the public keys (an
  auditor, a regulator) can check checkpoints without being able to make one.

The write path sends the current chain key to PostgreSQL as bound parameters of
the event's INSERT (bureau/audit/services.py), wrapped in `SecretBytes` so that
Django's query log and tracebacks show "<secret>" instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from bureau.audit.chain import LEGACY_KEY_VERSION, hmac_pads


class SecretBytes(bytes):
    """Bytes that psycopg sends as they are (a bytea parameter) but that print as
    "<secret>": Django's debug query log writes `args=<params>` with repr()."""

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


@dataclass(frozen=True)
class ChainKeys:
    """Chain keys by version; `current_version` links new events."""

    current_version: int
    keys: tuple[tuple[int, bytes], ...]

    @cached_property
    def _by_version(self) -> dict[int, bytes]:
        return dict(self.keys)

    @property
    def versions(self) -> tuple[int, ...]:
        return tuple(version for version, _ in self.keys)

    def key(self, version: int) -> bytes | None:
        """The key of `version`, None when it is not configured."""
        return self._by_version.get(version)

    @cached_property
    def current_pads(self) -> tuple[SecretBytes, SecretBytes]:
        """The current key as the HMAC pads PostgreSQL hashes with."""
        outer, inner = hmac_pads(self._by_version[self.current_version])
        return SecretBytes(outer), SecretBytes(inner)


def chain_keys() -> ChainKeys:
    """The chain keys from settings (`BUREAU_AUDIT_CHAIN_KEYS`, which settings.py
    builds from the current key and `BUREAU_AUDIT_CHAIN_KEYS_OLDER`). Built once
    per distinct setting: every audit write asks for it."""
    configured = getattr(settings, "BUREAU_AUDIT_CHAIN_KEYS", {})
    return _chain_keys_from(
        settings.BUREAU_AUDIT_CHAIN_KEY_VERSION,
        tuple(sorted((int(v), k) for v, k in configured.items() if k)),
    )


@lru_cache(maxsize=8)
def _chain_keys_from(current: int, keys: tuple[tuple[int, str], ...]) -> ChainKeys:
    versions = [version for version, _ in keys]
    if current not in versions:
        raise ImproperlyConfigured(
            "BUREAU_AUDIT_CHAIN_KEY is not set: the audit chain must be keyed "
            "(docs/operations.md, 'Audit trail keys')."
        )
    if LEGACY_KEY_VERSION in versions or min(versions) < 0:
        raise ImproperlyConfigured(
            "Audit chain key versions start at 1 (0 is the legacy unkeyed hash)."
        )
    newer = [version for version in versions if version > current]
    if newer:
        raise ImproperlyConfigured(
            f"Audit chain key versions {newer} are newer than the current version "
            f"{current} (BUREAU_AUDIT_CHAIN_KEY_VERSION)."
        )
    return ChainKeys(current, tuple((v, k.encode()) for v, k in keys))


# --- checkpoint signatures (Ed25519) ----------------------------------------------


def _hex_key(value: str, *, name: str) -> bytes:
    try:
        raw = bytes.fromhex(value.strip())
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ImproperlyConfigured(
            f"{name} must be 32 bytes in hex (64 characters); "
            "`manage.py audit_keygen` makes one."
        )
    return raw


def public_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


@dataclass(frozen=True)
class CheckpointKeys:
    """The signing key (current version) and the public keys of every version."""

    version: int
    private: Ed25519PrivateKey | None
    public: dict[int, Ed25519PublicKey]

    def sign(self, message: bytes) -> bytes:
        if self.private is None:
            raise ImproperlyConfigured(
                "BUREAU_AUDIT_CHECKPOINT_KEY is not set: checkpoints cannot be "
                "signed (docs/operations.md, 'Audit trail keys')."
            )
        return self.private.sign(message)

    def verify(self, version: int, signature: bytes, message: bytes) -> bool | None:
        """True when it verifies, False when not, None for an unknown version."""
        key = self.public.get(version)
        if key is None:
            return None
        try:
            key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def checkpoint_keys() -> CheckpointKeys:
    older = getattr(settings, "BUREAU_AUDIT_CHECKPOINT_PUBLIC_KEYS", {})
    return _checkpoint_keys_from(
        settings.BUREAU_AUDIT_CHECKPOINT_KEY_VERSION,
        settings.BUREAU_AUDIT_CHECKPOINT_KEY,
        tuple(sorted((int(v), k) for v, k in older.items() if k)),
    )


@lru_cache(maxsize=8)
def _checkpoint_keys_from(
    version: int, private_hex: str, older: tuple[tuple[int, str], ...]
) -> CheckpointKeys:
    public = {
        v: Ed25519PublicKey.from_public_bytes(
            _hex_key(k, name=f"BUREAU_AUDIT_CHECKPOINT_PUBLIC_KEYS_OLDER[{v}]")
        )
        for v, k in older
    }
    private = None
    if private_hex:
        private = Ed25519PrivateKey.from_private_bytes(
            _hex_key(private_hex, name="BUREAU_AUDIT_CHECKPOINT_KEY")
        )
        public[version] = private.public_key()
    return CheckpointKeys(version, private, public)
