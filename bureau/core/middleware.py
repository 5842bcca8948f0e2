import re
import uuid

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver

from bureau.core.context import client_ip_var, request_id_var

# A client-sent id is echoed only when it is short and plain: it lands in logs.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def client_ip(request) -> str | None:
    """The client address: the peer, or with BUREAU_TRUSTED_PROXY_COUNT = n the
    address n hops from the right of X-Forwarded-For (set by our own proxies)."""
    hops = settings.BUREAU_TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or None


class RequestIdMiddleware:
    """Give every request an id: echo a safe `X-Request-ID`, else make one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sent = request.headers.get("X-Request-ID", "")
        request_id = sent if _SAFE_REQUEST_ID.match(sent) else uuid.uuid4().hex
        request.request_id = request_id
        # Cleared on request_finished, not here: Django logs 4xx/5xx responses
        # after the middleware chain returns, and those lines need the id too.
        request_id_var.set(request_id)
        client_ip_var.set(client_ip(request))
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


@receiver(request_finished, dispatch_uid="clear_request_context")
def _clear_request_context(**kwargs) -> None:
    request_id_var.set("-")
    client_ip_var.set(None)
