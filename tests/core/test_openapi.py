"""The OpenAPI schema describes what the API really does: API keys as bearer
tokens, the problem body of every refusal, lists as pages, nullable fields."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

PROBLEM_REF = "#/components/schemas/Problem"


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def api_operations(schema):
    for path, operations in schema["paths"].items():
        if path.startswith("/api/v1/"):
            for method, operation in operations.items():
                yield path, method, operation


def test_schema_when_generated_is_valid_openapi(schema):
    validate_schema(schema)  # raises on any violation of the OpenAPI 3 schema


def test_api_keys_when_described_are_bearer_tokens_on_every_operation(schema):
    scheme = schema["components"]["securitySchemes"]["apiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, method, operation in api_operations(schema):
        names = {name for entry in operation.get("security", []) for name in entry}
        assert "apiKey" in names or "cookieAuth" in names, (path, method)


def test_refusals_when_described_use_the_problem_body(schema):
    assert set(schema["components"]["schemas"]["Problem"]["required"]) == {
        "code",
        "detail",
        "errors",
        "request_id",
    }
    for path, method, operation in api_operations(schema):
        for status in ("400", "401", "403", "404"):
            content = operation["responses"][status]["content"]
            assert content["application/json"]["schema"] == {"$ref": PROBLEM_REF}, (
                path,
                method,
                status,
            )
    watch = schema["paths"]["/api/v1/watches/"]["post"]["responses"]["409"]
    assert watch["content"]["application/json"]["schema"] == {"$ref": PROBLEM_REF}
    assert "429" in schema["paths"]["/api/v1/queries/"]["post"]["responses"]
    for path, method in [
        ("/api/v1/batches/", "get"),
        ("/api/v1/watches/", "get"),
        ("/api/v1/screenings/", "post"),
    ]:
        assert "429" not in schema["paths"][path][method]["responses"], path


def test_inquiries_when_listed_are_described_as_pages(schema):
    response = schema["paths"]["/api/v1/inquiries/"]["get"]["responses"]["200"]
    ref = response["content"]["application/json"]["schema"]["$ref"]
    page = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert page["properties"]["results"]["type"] == "array"


@pytest.mark.parametrize(
    "component",
    ["QueryInputRequest", "WatchCreateInputRequest", "ScreeningCreateInputRequest"],
)
def test_consent_reference_when_described_allows_what_services_allow(schema, component):
    properties = schema["components"]["schemas"][component]["properties"]
    assert properties["consent_reference"]["maxLength"] == 64


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("InquiryOutput", "member"),
        ("AuditEventOutput", "member"),
        ("AlertOutput", "member"),
        ("AlertOutput", "api_key"),
        ("AlertOutput", "handled_by"),
    ],
)
def test_fields_when_they_can_be_null_say_so(schema, component, field):
    assert schema["components"]["schemas"][component]["properties"][field]["nullable"]


# -- every status, media type, format and enum the API answers or enforces ----------


def operation(schema, path, method):
    return schema["paths"][path][method]


def component(schema, name):
    return schema["components"]["schemas"][name]


def resolved(schema, node):
    while "$ref" in node or "allOf" in node:
        if "allOf" in node:
            node = node["allOf"][0]
        else:
            node = component(schema, node["$ref"].rsplit("/", 1)[-1])
    return node


def test_operations_with_a_body_when_described_declare_415(schema):
    for path, method, op in api_operations(schema):
        if "requestBody" in op:
            assert "415" in op["responses"], (path, method)


def test_uploads_when_described_declare_413_and_415(schema):
    for path in ("/api/v1/batches/", "/api/v1/screenings/"):
        op = operation(schema, path, "post")
        assert set(op["requestBody"]["content"]) == {"multipart/form-data"}
        assert {"413", "415"} <= set(op["responses"])


def test_json_operations_when_described_take_json_only(schema):
    op = operation(schema, "/api/v1/keys/", "post")
    assert set(op["requestBody"]["content"]) == {"application/json"}


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/disputes/", "post"),
        ("/api/v1/disputes/{dispute_id}/", "patch"),
        ("/api/v1/alerts/{alert_id}/", "patch"),
        ("/api/v1/keys/{key_id}/rotate/", "post"),
        ("/api/v1/webhooks/", "post"),
        ("/api/v1/batches/", "post"),
    ],
)
def test_operations_that_can_conflict_when_described_declare_409(schema, path, method):
    response = operation(schema, path, method)["responses"]["409"]
    assert response["content"]["application/json"]["schema"] == {"$ref": PROBLEM_REF}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/batches/{batch_id}/errors/",
        "/api/v1/screenings/{screening_id}/results/",
        "/api/v1/audit-events/",
    ],
)
def test_csv_downloads_when_described_answer_text_csv(schema, path):
    content = operation(schema, path, "get")["responses"]["200"]["content"]
    assert {"application/json", "text/csv"} <= set(content)


def test_page_parameters_when_described_are_in_range(schema):
    seen = set()
    for path, _method, op in api_operations(schema):
        for parameter in op.get("parameters", []):
            if parameter["name"] == "page_size":
                assert parameter["schema"]["minimum"] == 1, path
                assert parameter["schema"]["maximum"] == 1000, path
                seen.add(path)
            if parameter["name"] == "page":
                assert parameter["schema"]["minimum"] == 1, path
    assert "/api/v1/audit-events/" in seen  # the cursor pages too


def test_patch_bodies_when_described_require_what_the_views_require(schema):
    body = operation(schema, "/api/v1/alerts/{alert_id}/", "patch")["requestBody"]
    ref = body["content"]["application/json"]["schema"]
    assert "status" in resolved(schema, ref)["required"]


def test_text_input_when_described_refuses_nul_and_blank(schema):
    from bureau.core.schema_fields import NO_NUL, NOT_BLANK

    name = component(schema, "ApiKeyCreateInputRequest")["properties"]["name"]
    assert name["pattern"] == NOT_BLANK
    note = component(schema, "DisputeAnswerInputRequest")["properties"]["note"]
    assert NO_NUL in {branch.get("pattern") for branch in note["oneOf"]}


@pytest.mark.parametrize("name", ["QueryInputRequest", "WatchCreateInputRequest"])
def test_identity_numbers_when_described_have_a_form_per_type(schema, name):
    branches = component(schema, name)["oneOf"]
    by_type = {
        resolved(schema, b["properties"]["id_type"])["enum"][0]: b["properties"][
            "id_number"
        ]
        for b in branches
    }
    assert set(by_type) == {"resident_id", "passport", "uscc", "other"}
    assert by_type["resident_id"]["format"] == "resident-id"
    assert by_type["uscc"]["format"] == "uscc"
    assert all("pattern" in number for number in by_type.values())


def test_purposes_and_consent_when_described_are_what_members_may_send(schema):
    query = component(schema, "QueryInputRequest")
    purposes = resolved(schema, query["properties"]["purpose"])["enum"]
    assert set(purposes) == {
        "loan_approval",
        "credit_card_approval",
        "post_loan_management",
        "guarantee_check",
    }
    assert "consent_reference" in query["required"]
    screening = component(schema, "ScreeningCreateInputRequest")
    assert {"purpose", "consent_reference"} <= set(screening["required"])


def test_webhook_events_when_described_are_an_enum(schema):
    events = component(schema, "WebhookCreateInputRequest")["properties"]["events"]
    assert set(resolved(schema, events["items"])["enum"]) == {
        "profile.changed",
        "batch.completed",
    }
    assert events["minItems"] == 1


def test_served_schema_when_fetched_is_english(client):
    response = client.get(
        "/api/schema/", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    text = response.content.decode()
    assert response.status_code == 200 and "A page number" in text


def test_text_query_parameters_when_described_refuse_nul(schema):
    from bureau.core.schema_fields import NO_NUL

    parameters = operation(schema, "/api/v1/audit-events/", "get")["parameters"]
    actor = next(p for p in parameters if p["name"] == "actor")
    assert actor["schema"]["pattern"] == NO_NUL


def test_schema_when_generated_again_is_the_same_with_every_ref_resolved():
    """The schema is generated on every request for it: nothing of one
    generation may leak into the next (the enum hook rewrites dicts in place)."""
    first = SchemaGenerator().get_schema(request=None, public=True)
    second = SchemaGenerator().get_schema(request=None, public=True)
    assert second == first
    names = set(second["components"]["schemas"])

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"].rsplit("/", 1)[-1]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    assert set(refs(second)) <= names
