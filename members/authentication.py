"""`Authorization: Bearer bk_<prefix>_<secret>` for member systems."""

from __future__ import annotations

import ipaddress
import logging
from typing import NoReturn

from django.utils.translation import gettext as _
from rest_framework import authentication
from rest_framework.exceptions import AuthenticationFailed

from bureau.audit.services import audit_record, redact_identity
from bureau.core.errors import ApiForbidden
from bureau.core.middleware import client_ip
from members import keycache, keys
from members.models import ApiKey
from members.principals import KeyPrincipal
from members.services import api_key_touch

logger = logging.getLogger("bureau.auth")


def _address_allowed(address: str | None, networks: list[str]) -> bool:
    if not networks:
        return True
    if not address:
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(network) for network in networks)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'

    @staticmethod
    def _audit_refusal(request, reason: str, key: ApiKey | None) -> None:
        audit_record(
            actor=key,
            action="auth.failed",
            details={"reason": reason, "path": redact_identity(request.path[:200])},
        )

    def _fail(
        self, request, code: str, detail: str, key: ApiKey | None = None
    ) -> NoReturn:
        logger.info("api key refused", extra={"kv": {"code": code}})
        self._audit_refusal(request, code, key)
        raise AuthenticationFailed(detail, code=code)

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # not ours: session auth may still apply
        if len(header) != 2:
            self._fail(request, "invalid_key", _("Malformed Authorization header."))
        try:
            parsed = keys.parse_key(header[1].decode("ascii"))
        except UnicodeDecodeError:
            parsed = None
        if parsed is None:
            self._fail(request, "invalid_key", _("The API key is not valid."))
        # Cached by prefix; revoking, rotating and suspending invalidate the entry.
        found = keycache.lookup_key(parsed.prefix)
        # Same answer for unknown prefix and wrong secret: nothing to learn by probing.
        if found is None or not keys.secret_matches(
            parsed.secret, found.key.secret_hash
        ):
            self._fail(request, "invalid_key", _("The API key is not valid."))
        key = found.key
        if key.is_revoked:
            self._fail(request, "key_revoked", _("This API key has been revoked."), key)
        if key.is_expired():
            self._fail(request, "key_expired", _("This API key has expired."), key)
        if not _address_allowed(client_ip(request), key.allowed_networks):
            self._audit_refusal(request, "address_not_allowed", key)
            raise ApiForbidden(_("This API key may not be used from this address."))
        if not key.member.is_active:
            raise ApiForbidden(
                _("Your member platform is suspended."), code="member_suspended"
            )
        api_key_touch(key=key, touch_claimed=found.touch_claimed)
        return KeyPrincipal(key), key
