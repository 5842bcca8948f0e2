"""Swagger UI groups the API by area: every operation carries exactly one area tag
(none is left under the path's "v1"), and the schema describes each area."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from bureau.core.openapi_tags import TAGS, area_of

# One operation of each area, as the issue names them.
EXPECTED = {
    ("/api/v1/batches/", "post"): "Uploads",
    ("/api/v1/batches/{batch_id}/errors/", "get"): "Uploads",
    ("/api/v1/queries/", "post"): "Queries and reports",
    ("/api/v1/queries/{inquiry_id}/report/", "get"): "Queries and reports",
    ("/api/v1/screenings/", "post"): "Queries and reports",
    ("/api/v1/inquiries/", "get"): "Queries and reports",
    ("/api/v1/watches/", "post"): "Monitoring",
    ("/api/v1/webhooks/", "post"): "Monitoring",
    ("/api/v1/members/me/", "get"): "Member admin",
    ("/api/v1/keys/", "post"): "Member admin",
    ("/api/v1/members/", "get"): "Bureau staff",
    ("/api/v1/members/{code}/suspend/", "post"): "Bureau staff",
    ("/api/v1/disputes/", "post"): "Bureau staff",
    ("/api/v1/subjects/{subject_id}/inquiries/", "get"): "Bureau staff",
    ("/api/v1/audit-events/", "get"): "Audit",
    ("/api/v1/alerts/", "get"): "Audit",
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_operation_when_documented_carries_one_area_tag(schema):
    untagged = [
        (path, method, operation.get("tags"))
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if operation.get("tags") is None
        or len(operation["tags"]) != 1
        or operation["tags"][0] not in TAGS
    ]
    assert not untagged, untagged
    assert sum(len(ops) for ops in schema["paths"].values()) > 40  # all of them


def test_operations_when_documented_sit_in_their_area(schema):
    for (path, method), tag in EXPECTED.items():
        assert schema["paths"][path][method]["tags"] == [tag], (path, method)


def test_areas_when_documented_are_listed_in_order_with_descriptions(schema):
    listed = schema["tags"]
    assert [t["name"] for t in listed] == list(TAGS)
    assert all(len(t["description"]) > 20 for t in listed)
    used = {op["tags"][0] for ops in schema["paths"].values() for op in ops.values()}
    assert used == set(TAGS)  # no area left empty


def test_area_of_when_path_is_outside_the_api_is_none():
    assert area_of("/healthz") is None
    assert area_of("/api/v1/nowhere/") is None
    assert area_of("/api/v1/members/me/") == "Member admin"
