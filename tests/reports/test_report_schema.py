"""The OpenAPI schema of the query answer matches real answers: a member's
(others anonymised) and bureau staff's (codes, record ids, claims), with a
dispute and a statement on file. Objects are closed: a field the schema does not
name fails the test, so new report fields must be documented."""

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

from bureau.records.models import Record, Subject
from bureau.records.services.disputes import dispute_open
from bureau.records.services.statements import statement_add
from members.models import Role
from tests.conftest import bearer
from tests.factories import UserFactory
from tests.records.helpers import ID_A
from tests.reports.test_query import QUERIES, ask, furnished  # noqa: F401

pytestmark = pytest.mark.django_db

_DROPPED = ("nullable", "readOnly", "description", "example")


def _json_schema(node, components: dict):
    """OpenAPI 3.0 to JSON Schema: references inlined, `nullable` as a null
    alternative, every object closed to fields it does not describe."""
    if isinstance(node, list):
        return [_json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _json_schema(components[node["$ref"].rsplit("/", 1)[-1]], components)
    out = {k: _json_schema(v, components) for k, v in node.items() if k not in _DROPPED}
    if out.get("type") == "object" and "properties" in out:
        out["additionalProperties"] = False
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


@pytest.fixture(scope="module")
def report_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    answer = schema["paths"]["/api/v1/queries/"]["post"]["responses"]["200"]
    ref = answer["content"]["application/json"]["schema"]
    return _json_schema(ref, schema["components"]["schemas"])


def _validate(report: dict, schema: dict) -> None:
    jsonschema.validate(report, schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture
def disputed(furnished):  # noqa: F811 - the fixture, imported
    """Acme's account of 张三 under dispute, and a statement of his."""
    officer = UserFactory(username="carol", role=Role.COMPLIANCE, member=None)
    record = Record.objects.get(account_no="ACME-1")
    dispute_open(record=record, claim="I repaid this in March.", actor=officer)
    statement_add(
        subject=Subject.objects.get(pk=record.subject_id),
        text="My card was stolen in 2025.",
        actor=officer,
    )
    return officer


def test_member_answer_when_validated_matches_the_schema(
    api_client, disputed, acme_key, report_schema
):
    report = ask(api_client, acme_key[1]).json()
    assert {a["furnisher"] for a in report["accounts"]} == {"own", "platform A"}
    assert report["disputes"] and report["statements"]
    _validate(report, report_schema)
    # The check can fail: a field the schema does not describe is refused.
    report["accounts"][0]["undocumented"] = 1
    with pytest.raises(jsonschema.ValidationError, match="undocumented"):
        _validate(report, report_schema)
    stored = api_client.get(
        f"{QUERIES}{report['inquiry_id']}/report/", **bearer(acme_key[1])
    ).json()
    _validate(stored, report_schema)


def test_staff_answer_when_validated_matches_the_schema(
    api_client, disputed, report_schema
):
    api_client.force_login(disputed)
    body = {"id_type": "resident_id", "id_number": ID_A, "name": "张三"}
    report = api_client.post(
        QUERIES, {**body, "purpose": "self_inquiry"}, format="json"
    ).json()
    assert "id" in report["subject"] and "claim" in report["disputes"][0]
    assert all("record_id" in account for account in report["accounts"])
    _validate(report, report_schema)
