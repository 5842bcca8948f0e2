"""What every request under /api/ gets before and after its view, in one place.

- Query parameters the database or a paginator cannot take are refused with the
  400 problem body: a NUL character anywhere (PostgreSQL refuses NUL in text,
  which made a 500, or a CSV download cut off after its header line), and a
  `page` or `page_size` that is not a whole number in range (paginators would
  quietly use their default instead).
- One language per answer: the first language of `Accept-Language` the site
  speaks (zh-hans, en; `zh`, `zh-CN` and `zh-Hans-CN` are zh-hans, `en-US` is
  en), else English, the language of machine clients that send none. DRF's
  refusals (parse errors, 401, 405, 415, field messages), ours (`detail`,
  `errors`) and a streamed download's text all follow it; `Content-Language`
  says which. The site's language cookie and session do not count: a program
  shares no cookie with a browser, and a person's choice on the site must not
  change what a program parses. The site's language stays in
  `request.LANGUAGE_CODE`, for the one page made for a person and linked from
  the site: the printable report.
- The OpenAPI schema and its docs page are English: their descriptions are
  written in English, DRF's translated ones would sit beside them.
- Answers under /api/v1/ are `Cache-Control: no-store`: every one is for one
  caller and most carry personal data (reports, inquiries, subject files).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext
from django.utils.translation.trans_real import parse_accept_lang_header

from bureau.core.errors import ValidationFailed, problem_response
from bureau.core.pagination import PAGE_LIMITS

DEFAULT_API_LANGUAGE = "en"
# Documentation, in the language its texts are written in.
_ENGLISH_PATHS = ("/api/schema/", "/api/docs/")


def api_language(request) -> str:
    """The language of an answer under /api/: Accept-Language's first supported
    language (q > 0, in the header's order of preference), else English."""
    if request.path_info.startswith(_ENGLISH_PATHS):
        return DEFAULT_API_LANGUAGE
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, quality in parse_accept_lang_header(header):
        if code == "*":
            break  # any language will do: ours
        if quality <= 0:
            continue  # q=0: "not this one"
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return DEFAULT_API_LANGUAGE


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


def _in_language(chunks: Iterable[bytes], language: str) -> Iterator[bytes]:
    """A streamed body's chunks, each made in `language`: they are made while
    the client reads, after this middleware has returned."""
    iterator = iter(chunks)
    while True:
        with translation.override(language):
            chunk = next(iterator, None)
        if chunk is None:
            return
        yield chunk


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith("/api/"):
            return self.get_response(request)
        language = api_language(request)
        with translation.override(language):
            errors = query_errors(request.GET)
            if errors:
                response = problem_response(
                    400, ValidationFailed.code, ValidationFailed.default_detail, errors
                )
            else:
                response = self.get_response(request)
        if response.streaming and not getattr(response, "is_async", False):
            response.streaming_content = _in_language(
                response.streaming_content, language
            )
        response.headers.setdefault("Content-Language", language)
        if request.path_info.startswith("/api/v1/"):
            patch_cache_control(response, no_store=True, private=True)
        return response
