"""The `/api/v1/` routes as the URL resolver knows them (never a hand-kept list)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLResolver, get_resolver

API_PREFIX = "/api/v1/"
_HTTP_METHODS = ("get", "post", "put", "patch", "delete")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


@dataclass(frozen=True)
class Route:
    template: str  # "/api/v1/batches/{batch_id}/"
    name: str | None
    view_class: type | None  # None: not a class-based view

    @property
    def methods(self) -> tuple[str, ...]:
        """The HTTP methods the view implements (OPTIONS/HEAD aside)."""
        if self.view_class is None:
            return ()
        return tuple(m.upper() for m in _HTTP_METHODS if hasattr(self.view_class, m))

    @property
    def takes_object(self) -> bool:
        return "{" in self.template


def _walk(patterns, prefix: str):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        else:
            yield route, pattern


def api_routes() -> list[Route]:
    routes = []
    for raw, pattern in _walk(get_resolver().url_patterns, "/"):
        template = _CONVERTER.sub(r"{\1}", raw)
        if not template.startswith(API_PREFIX):
            continue
        view_class = getattr(pattern.callback, "view_class", None)
        routes.append(Route(template, pattern.name, view_class))
    return routes
