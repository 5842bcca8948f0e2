"""API key material: `bk_<prefix>_<secret>`; only HMAC-SHA256(pepper, secret) is
kept.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

from django.conf import settings

KEY_TAG = "bk"
PREFIX_LENGTH = 8
SECRET_LENGTH = 40
_SECRET_ALPHABET = string.ascii_letters + string.digits  # no "_": it separates parts


@dataclass(frozen=True)
class ParsedKey:
    prefix: str
    secret: str


def new_prefix() -> str:
    return secrets.token_hex(PREFIX_LENGTH // 2)


def new_secret() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def format_key(prefix: str, secret: str) -> str:
    return f"{KEY_TAG}_{prefix}_{secret}"


def parse_key(raw: str) -> ParsedKey | None:
    parts = raw.split("_")
    if len(parts) != 3 or parts[0] != KEY_TAG:
        return None
    prefix, secret = parts[1], parts[2]
    if len(prefix) != PREFIX_LENGTH or not secret or len(secret) > 128:
        return None
    return ParsedKey(prefix=prefix, secret=secret)


def hash_secret(secret: str) -> str:
    pepper = settings.BUREAU_API_KEY_PEPPER.encode()
    return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
