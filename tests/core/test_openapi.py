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
