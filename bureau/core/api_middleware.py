"""What every request under /api/ gets before and after its view, in one place.

- Query parameters the database or a paginator cannot take are refused with the
  400 problem body: a NUL character anywhere (PostgreSQL refuses NUL in text,
  which made a 500, or a CSV download cut off after its header line), and a
  `page` or `page_size` that is not a whole number in range (paginators would
  quietly use their default instead).
- Messages are in English, the language of the API's own messages, whatever
  language the request chose: DRF's refusals (parse errors, 401, 405, 415, field
  messages) would otherwise come in that language beside ours. The language the
  request chose stays in `request.LANGUAGE_CODE`, for what is made to be read:
  the printable report.
- Answers under /api/v1/ are `Cache-Control: no-store`: every one is for one
  caller and most carry personal data (reports, inquiries, subject files).
"""

from __future__ import annotations

from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext

from bureau.core.errors import ValidationFailed, problem_response
from bureau.core.pagination import PAGE_LIMITS

API_LANGUAGE = "en"


def _whole_number(value: str, maximum: int) -> bool:
    digits = value.isascii() and value.isdigit() and len(value) <= 10
    return digits and 1 <= int(value) <= maximum


def query_errors(params) -> dict[str, list[str]]:
    """Field errors for query parameters no view can take (a QueryDict)."""
    errors: dict[str, list[str]] = {}
    for name, values in params.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            errors[name.replace("\x00", "\\0")] = [
                gettext("Must not contain NUL characters.")
            ]
        elif name in PAGE_LIMITS:
            maximum = PAGE_LIMITS[name]
            if not all(_whole_number(value, maximum) for value in values):
                errors[name] = [
                    gettext("Must be a whole number from 1 to %(maximum)s.")
                    % {"maximum": maximum}
                ]
    return errors


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith("/api/"):
            return self.get_response(request)
        with translation.override(API_LANGUAGE):
            errors = query_errors(request.GET)
            if errors:
                response = problem_response(
                    400, ValidationFailed.code, ValidationFailed.default_detail, errors
                )
            else:
                response = self.get_response(request)
        response.headers.setdefault("Content-Language", API_LANGUAGE)
        if request.path_info.startswith("/api/v1/"):
            patch_cache_control(response, no_store=True, private=True)
        return response
