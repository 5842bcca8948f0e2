"""OpenAPI post-processing: the problem body every refusal answers (docs/api.md),
declared once and listed on every operation with every status it can answer."""

from __future__ import annotations

from bureau.core.pagination import PAGE_LIMITS
from bureau.core.schema_fields import NO_NUL

PROBLEM = {
    "type": "object",
    "description": "Every error under /api/: a code to act on, a sentence for "
    "people, per-field messages, and the request id to quote.",
    "properties": {
        "code": {"type": "string", "example": "validation_error"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "request_id": {"type": "string"},
    },
    "required": ["code", "detail", "errors", "request_id"],
}

# Status → when it answers.
_ALWAYS = {
    "400": "Invalid input: `errors` holds the messages per field.",
    "401": "No credentials, or a key that is unknown, revoked or expired.",
    "403": "The role or the key's scopes do not allow this.",
    "404": "Not found, or not yours to see.",
}
_WITH_BODY = {"415": "The body is not in a media type this operation reads."}
_UPLOAD = {
    "413": "The file is larger than the upload limit.",
    "415": "The file is neither CSV nor JSON Lines (optionally gzip).",
}
_RATE_LIMITED = "Rate limited: retry after `Retry-After` seconds."
_CONFLICT = "Conflicts with the current state: see `detail`."
# Where a service refuses with 409 or 429 (API.md), by operation.
_STATE_STATUSES = {
    ("/api/v1/batches/", "post"): {"409": "The Idempotency-Key was used for "
                                   "another kind of upload."},
    ("/api/v1/disputes/", "post"): {"409": "The record has an open dispute."},
    ("/api/v1/disputes/{dispute_id}/", "patch"): {"409": "Already answered."},
    ("/api/v1/alerts/{alert_id}/", "patch"): {"409": "Not a change this alert's "
                                              "status allows."},
    ("/api/v1/keys/{key_id}/rotate/", "post"): {"409": "The key is revoked, "
                                                "expired or rotated already."},
    ("/api/v1/watches/", "post"): {"409": "You watch this person already.",
                                   "429": _RATE_LIMITED},
    ("/api/v1/webhooks/", "post"): {"409": "The member has the most webhooks."},
    ("/api/v1/queries/", "post"): {"429": _RATE_LIMITED},
}  # fmt: skip
_CSV = {"schema": {"type": "string"}}


def _request_statuses(operation: dict) -> dict[str, str]:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        # JSON in (API.md); DRF also reads forms there, which nothing needs.
        content.pop("multipart/form-data", None)
    if set(content) == {"multipart/form-data"}:
        return dict(_UPLOAD)
    return dict(_WITH_BODY) if content else {}


def _declare_parameters(operation: dict) -> None:
    """Page parameters in their range, whichever paginator; text parameters
    without NUL (refused in any query parameter); `?format=csv` downloads
    answer text/csv too."""
    for parameter in operation.get("parameters", []):
        name, schema = parameter["name"], parameter["schema"]
        if parameter["in"] == "query" and name in PAGE_LIMITS:
            schema.update(minimum=1, maximum=PAGE_LIMITS[name])
        plain = not {"enum", "format", "pattern"} & set(schema)
        if parameter["in"] == "query" and schema.get("type") == "string" and plain:
            schema["pattern"] = NO_NUL
        if name == "format" and "csv" in schema.get("enum", ()):
            ok = operation["responses"]["200"]
            ok.setdefault("content", {})["text/csv"] = _CSV


def add_problem_responses(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: a `Problem` component, used by every error
    response an operation declares and by the ones it can answer that it does
    not declare itself (400, 401, 403, 404; 415 with a body; 413 for uploads;
    409 and 429 where the services refuse so)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            statuses = dict(_ALWAYS)
            statuses.update(_request_statuses(operation))
            statuses.update(_STATE_STATUSES.get((path, method), {}))
            _declare_parameters(operation)
            responses = operation.setdefault("responses", {})
            for status, description in statuses.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status.startswith("4"):
                    response["content"] = {"application/json": {"schema": ref}}
                    response["description"] = response.get("description") or (
                        statuses.get(status, "Refused: see `code` and `detail`.")
                    )
    return result
