"""OpenAPI post-processing: the problem body every refusal answers (docs/api.md),
declared once and listed on every operation."""

from __future__ import annotations

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

# Status → when it answers. 429 only where a rate limit applies (docs/api.md).
_ALWAYS = {
    "400": "Invalid input: `errors` holds the messages per field.",
    "401": "No credentials, or a key that is unknown, revoked or expired.",
    "403": "The role or the key's scopes do not allow this.",
    "404": "Not found, or not yours to see.",
}
_RATE_LIMITED = {("/api/v1/queries/", "post"), ("/api/v1/watches/", "post")}


def add_problem_responses(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: a `Problem` component, used by every error
    response an operation declares (`409: dict`, say) and by the common ones
    (400, 401, 403, 404; 429 where rate limited) it does not."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            statuses = dict(_ALWAYS)
            if (path, method) in _RATE_LIMITED:
                statuses["429"] = "Rate limited: retry after `Retry-After` seconds."
            responses = operation.setdefault("responses", {})
            for status, description in statuses.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status.startswith("4"):
                    response["content"] = {"application/json": {"schema": ref}}
                    response["description"] = response.get("description") or (
                        "Refused: see `code` and `detail`."
                    )
    return result
