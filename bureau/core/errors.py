"""Domain errors and the one place that turns any error into the API problem body.

Every error under /api/ answers the same JSON shape (see docs/api.md):
{"code": "...", "detail": "human sentence", "errors": {"field": ["..."]},
 "request_id": "..."} -- never an HTML page, never a bare 500.

`code` is for programs and never translated; `detail` and `errors` are for people,
made in the request's language (bureau/core/api_middleware.py) when the error is
raised. The few texts DRF and Django leave untranslated (a JSON parser's message,
a CSRF reason) are replaced or translated here.
"""

from __future__ import annotations

import logging
import math
import re

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf
from rest_framework.response import Response

from bureau.core.context import request_id_var

logger = logging.getLogger("bureau.api")

SERVER_ERROR_DETAIL = _("An unexpected error occurred; it has been logged.")


class BureauError(Exception):
    """A refusal the caller can act on. Services raise these; views never build them."""

    status_code = 400
    code = "bad_request"
    default_detail = _("The request could not be processed.")

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        code: str | None = None,
    ) -> None:
        # Made now, in the language of the request that raised it.
        self.detail = str(detail or self.default_detail)
        self.errors = {
            name: [str(message) for message in messages]
            for name, messages in (errors or {}).items()
        }
        if code:
            self.code = code
        super().__init__(self.detail)


class ValidationFailed(BureauError):
    code = "validation_error"
    default_detail = _("Some fields are invalid.")


class NotFound(BureauError):
    status_code = 404
    code = "not_found"
    default_detail = _("Not found.")


class Conflict(BureauError):
    status_code = 409
    code = "conflict"
    default_detail = _("The request conflicts with the current state.")


class Forbidden(BureauError):
    status_code = 403
    code = "permission_denied"
    default_detail = _("You do not have permission to perform this action.")


class TooLarge(BureauError):
    status_code = 413
    code = "too_large"
    default_detail = _("The upload is too large.")


class UnsupportedMedia(BureauError):
    status_code = 415
    code = "unsupported_media_type"
    default_detail = _("This media type is not supported.")


class RateLimited(BureauError):
    status_code = 429
    code = "rate_limited"
    default_detail = _("Too many requests; slow down.")

    def __init__(self, retry_after: float, detail: str | None = None) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(detail)


class ApiForbidden(drf.PermissionDenied):
    """A 403 raised while authenticating (suspended member, address not allowed).

    DRF only lets APIException subclasses out of an authenticator with their status.
    """

    status_code = 403
    default_code = "permission_denied"
    default_detail = _("You do not have permission to perform this action.")


_DRF_CODES: list[tuple[type[Exception], str]] = [
    (drf.NotAuthenticated, "not_authenticated"),
    (drf.AuthenticationFailed, "invalid_key"),
    (drf.PermissionDenied, "permission_denied"),
    (drf.NotFound, "not_found"),
    (drf.MethodNotAllowed, "method_not_allowed"),
    (drf.UnsupportedMediaType, "unsupported_media_type"),
    (drf.NotAcceptable, "not_acceptable"),
    (drf.Throttled, "rate_limited"),
    (drf.ParseError, "parse_error"),
    (drf.ValidationError, "validation_error"),
]
# Generic codes; a specific one a DRF exception carries (key_expired) is kept.
_GENERIC_DRF_CODES = {
    "error",
    "invalid",
    "authentication_failed",
    "not_authenticated",
    "permission_denied",
    "not_found",
    "method_not_allowed",
    "unsupported_media_type",
    "not_acceptable",
    "throttled",
    "parse_error",
}


# -- texts DRF and Django leave in English -----------------------------------------

_DRF_CSRF_FAILED = "CSRF Failed: "  # DRF's session check: "CSRF Failed: <reason>"
# Django's CSRF reasons (django/middleware/csrf.py), word for word: the English
# answer is Django's reason, and a translation is found by matching it. A reason
# of a later Django that matches none is shown as Django words it.
_CSRF_REASONS = (
    gettext_noop(
        "Origin checking failed - %(origin)s does not match any trusted origins."
    ),
    gettext_noop("Referer checking failed - no Referer."),
    gettext_noop(
        "Referer checking failed - %(referer)s does not match any trusted origins."
    ),
    gettext_noop("Referer checking failed - Referer is malformed."),
    gettext_noop("Referer checking failed - Referer is insecure while host is secure."),
    gettext_noop("CSRF cookie not set."),
    gettext_noop("CSRF cookie has incorrect length."),
    gettext_noop("CSRF cookie has invalid characters."),
    gettext_noop("CSRF token missing."),
    gettext_noop("CSRF token from POST incorrect."),
    gettext_noop("CSRF token from POST has incorrect length."),
    gettext_noop("CSRF token from POST has invalid characters."),
    gettext_noop("CSRF token from the %(header)s HTTP header incorrect."),
    gettext_noop("CSRF token from the %(header)s HTTP header has incorrect length."),
    gettext_noop("CSRF token from the %(header)s HTTP header has invalid characters."),
)
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _reason_pattern(msgid: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(msgid)  # literal, name, literal, ..., literal
    return re.compile(
        "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)"
            for index, part in enumerate(parts)
        )
    )


_CSRF_PATTERNS = tuple((msgid, _reason_pattern(msgid)) for msgid in _CSRF_REASONS)


def csrf_detail(reason: str) -> str:
    """The `detail` of a refused CSRF check, in the active language."""
    for msgid, pattern in _CSRF_PATTERNS:
        found = pattern.fullmatch(reason)
        if found is not None:
            reason = gettext(msgid) % found.groupdict()
            break
    return gettext("CSRF check failed: %(reason)s") % {"reason": reason}


# DRF's parsers put the parser's own English message after these.
_JSON_PARSE_ERROR = "JSON parse error - "
_MULTIPART_PARSE_ERROR = "Multipart form parse error - "
_JSON_POSITION = re.compile(r"line (\d+) column (\d+)")


def _parse_error_detail(detail: str) -> str:
    """A parse error's `detail` in the active language: where the JSON breaks
    (the json module's line and column) rather than its English message."""
    if detail.startswith(_JSON_PARSE_ERROR):
        position = _JSON_POSITION.search(detail)
        if position is None:  # not text at all (bytes that are not UTF-8)
            return gettext("The body is not valid JSON.")
        return gettext(
            "The body is not valid JSON: the error is at line %(line)s, "
            "column %(column)s."
        ) % {"line": position[1], "column": position[2]}
    if detail.startswith(_MULTIPART_PARSE_ERROR):
        return gettext("The multipart body could not be read.")
    return detail  # DRF's own "Malformed request.", translated


def _flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten_errors(value, name))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            out.update(
                _flatten_errors(item, f"{prefix}[{index}]" if prefix else str(index))
            )
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def problem_body(code: str, detail: str | Promise, errors: dict | None = None) -> dict:
    return {
        "code": code,
        "detail": str(detail),
        "errors": {
            name: [str(message) for message in messages]
            for name, messages in (errors or {}).items()
        },
        "request_id": request_id_var.get(),
    }


def _drf_code(exc: drf.APIException) -> str:
    own = exc.get_codes()
    if isinstance(own, str) and own not in _GENERIC_DRF_CODES:
        return own
    for exc_class, code in _DRF_CODES:
        if isinstance(exc, exc_class):
            return code
    return "error"


def api_exception_handler(exc: Exception, context: dict) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, Http404):
        exc = NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = Forbidden()

    if isinstance(exc, BureauError):
        status, code = exc.status_code, exc.code
        body = problem_body(code, exc.detail, exc.errors)
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, drf.APIException):
        status, code = exc.status_code, _drf_code(exc)
        detail = str(exc.detail)
        if isinstance(exc, drf.PermissionDenied) and detail.startswith(
            _DRF_CSRF_FAILED
        ):
            code = "csrf_failed"
            detail = csrf_detail(detail.removeprefix(_DRF_CSRF_FAILED))
        elif isinstance(exc, drf.ParseError):
            detail = _parse_error_detail(detail)
        if isinstance(exc, drf.ValidationError):
            body = problem_body(
                code, ValidationFailed.default_detail, _flatten_errors(exc.detail)
            )
        else:
            body = problem_body(code, detail)
        # NotAuthenticated and Throttled carry these; APIException does not.
        if auth_header := getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = auth_header
        if wait := getattr(exc, "wait", None):
            headers["Retry-After"] = str(math.ceil(wait))
    else:
        logger.exception("unhandled error in API view", exc_info=exc)
        status, code = 500, "server_error"
        body = problem_body(code, SERVER_ERROR_DETAIL)
    # Imported here: rest_framework.views reads the auth classes at import time,
    # and those import this module.
    from rest_framework.views import set_rollback

    set_rollback()
    return Response(body, status=status, headers=headers)


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def problem_response(
    status: int, code: str, detail: str, errors: dict | None = None
) -> JsonResponse:
    """The problem body outside DRF: Django's own error views under /api/, and
    refusals made before a view runs (bureau/core/api_middleware.py)."""
    return JsonResponse(problem_body(code, detail, errors), status=status)


def handler404(request, exception=None):
    if _wants_json(request):
        return api_not_found(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


@csrf_exempt  # it changes nothing: any method gets the JSON 404, never CSRF's page
def api_not_found(request, *args, **kwargs):
    detail = NotFound.default_detail
    if not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            detail = gettext("Not found. API paths end with a slash: %(path)s") % {
                "path": f"{request.path}/"
            }
    return problem_response(404, "not_found", detail)


def handler400(request, exception=None):
    if _wants_json(request):
        return problem_response(400, "bad_request", BureauError.default_detail)
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def handler403(request, exception=None):
    if _wants_json(request):
        return problem_response(403, "permission_denied", gettext("Forbidden."))
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)


def csrf_failure(request, reason=""):
    """settings.CSRF_FAILURE_VIEW: the problem body under /api/, Django's page
    elsewhere."""
    if _wants_json(request):
        return problem_response(403, "csrf_failed", csrf_detail(reason))
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason)


def handler500(request):
    if _wants_json(request):
        return problem_response(500, "server_error", SERVER_ERROR_DETAIL)
    from django.views.defaults import server_error

    return server_error(request)
