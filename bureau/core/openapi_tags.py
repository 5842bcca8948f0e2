"""OpenAPI post-processing: every operation under one area tag, so Swagger UI groups
the endpoints by who uses them rather than listing all of them under "v1".

The area follows from the path, in this one table: a new route lands in its
area by its first path segment (tests/core/test_openapi_tags.py fails for a path no
area claims). Tag names and descriptions stay English, like the rest of the
schema.
"""

from __future__ import annotations

import re

API_PREFIX = "/api/v1/"

# (tag, description, the paths it takes: a regex on the path after /api/v1/).
# First match wins: members/me/ is a member's own, members/ the bureau's.
AREAS: tuple[tuple[str, str, str], ...] = (
    (
        "Uploads",
        "Furnish records: upload a batch file (CSV or JSON Lines), follow it, read "
        "and download its rejected rows, share them with an analyst.",
        r"batches/",
    ),
    (
        "Queries and reports",
        "Look a person up for a stated purpose with consent, read the report "
        "again (JSON, HTML, PDF), screen many persons at once, and list your "
        "member's inquiries.",
        r"(queries|screenings|inquiries)/",
    ),
    (
        "Monitoring",
        "Watch persons, and receive signed webhooks when a watched profile "
        "changes or a batch completes.",
        r"(watches|webhooks)/",
    ),
    (
        "Member admin",
        "Your own member: its status and usage, and its API keys (member admins).",
        r"(members/me|keys)/",
    ),
    (
        "Bureau staff",
        "Members (list, suspend, reinstate), disputes, and a person's file: who "
        "looked them up, their statements, their self-report.",
        r"(members|disputes|subjects)/",
    ),
    (
        "Audit",
        "The audit trail and misuse alerts (auditors, compliance, bureau admins).",
        r"(audit-events|alerts)/",
    ),
)
TAGS = tuple(tag for tag, _, _ in AREAS)
_RULES = tuple((tag, re.compile(pattern)) for tag, _, pattern in AREAS)


def area_of(path: str) -> str | None:
    """The area tag of an API path, or None when no area claims it."""
    if not path.startswith(API_PREFIX):
        return None
    rest = path[len(API_PREFIX) :]
    for tag, pattern in _RULES:
        if pattern.match(rest):
            return tag
    return None


def tag_operations_by_area(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: each operation's tags become its area's, and
    the schema lists the areas, in this order, with their descriptions."""
    for path, operations in result.get("paths", {}).items():
        tag = area_of(path)
        if tag is None:
            continue
        for operation in operations.values():
            if isinstance(operation, dict):
                operation["tags"] = [tag]
    result["tags"] = [
        {"name": tag, "description": description} for tag, description, _ in AREAS
    ]
    return result
