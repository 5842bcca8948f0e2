"""Bad input under /api/ is a 400 problem body, never a 500 or a cut-off 200:
NUL characters in query parameters, pages out of range, filters that cannot be
read, `OPTIONS`, and multipart file names that are not UTF-8."""

import pytest
from django.test import Client

from bureau.records.models import Batch
from tests.conftest import bearer
from tests.factories import bureau_user
from tests.records.helpers import ID_BAD_CHECKSUM, csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db
BATCHES = "/api/v1/batches/"


@pytest.fixture
def batch_with_errors(acme):
    rows = [good_row(account_no=f"A{i}", id_number=ID_BAD_CHECKSUM) for i in range(3)]
    return ingest(acme, csv_bytes(rows))


def assert_400_for(response, parameter: str) -> dict:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "validation_error" and parameter in body["errors"]
    assert body["request_id"] == response["X-Request-ID"]
    return body


@pytest.mark.parametrize(
    "query",
    [
        "code=%00",
        "column=%00",
        "column=id%00number",
        "format=csv&code=%00",
        "format=csv&column=%00",
    ],
)
def test_batch_errors_when_a_filter_has_nul_answer_400_json_and_csv(
    api_client, acme_key, batch_with_errors, query
):
    url = f"{BATCHES}{batch_with_errors.pk}/errors/?{query}"
    response = api_client.get(url, **bearer(acme_key[1]))
    name = "column" if "column" in query else "code"
    body = assert_400_for(response, name)
    assert body["errors"][name] == ["Must not contain NUL characters."]


def test_nul_in_a_parameter_name_answers_400_naming_it(api_client, acme_key):
    response = api_client.get("/api/v1/inquiries/?a%00b=1", **bearer(acme_key[1]))
    assert_400_for(response, "a\\0b")


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("since=2026-01-01T00:00%00", "since"),
        ("format=csv&page_size=5%00", "page_size"),
    ],
)
def test_audit_events_when_a_filter_has_nul_answer_400(api_client, query, name):
    api_client.force_login(bureau_user("audrey", "auditor"))
    assert_400_for(api_client.get(f"/api/v1/audit-events/?{query}"), name)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/inquiries/?page=%00",
        "/api/v1/watches/?page_size=1%00",
        "/api/v1/screenings/?format=%00",
        "/api/v1/members/me/?anything=%00",
    ],
)
def test_lists_when_a_parameter_has_nul_answer_400(api_client, acme_key, path):
    response = api_client.get(path, **bearer(acme_key[1]))
    assert response.status_code == 400 and response.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("page_size=null", "page_size"),
        ("page_size=0", "page_size"),
        ("page_size=1001", "page_size"),
        ("page_size=", "page_size"),
        ("page=", "page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
    ],
)
def test_page_parameters_when_out_of_range_answer_400(
    api_client, acme_key, batch_with_errors, query, name
):
    url = f"{BATCHES}{batch_with_errors.pk}/errors/?{query}"
    assert_400_for(api_client.get(url, **bearer(acme_key[1])), name)


def test_audit_cursor_page_size_when_not_a_number_answers_400(api_client):
    api_client.force_login(bureau_user("audrey", "auditor"))
    assert_400_for(api_client.get("/api/v1/audit-events/?page_size=x"), "page_size")


def test_page_past_the_end_answers_404_problem_body(
    api_client, acme_key, batch_with_errors
):
    url = f"{BATCHES}{batch_with_errors.pk}/errors/?page=9"
    response = api_client.get(url, **bearer(acme_key[1]))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"code", "detail", "errors", "request_id"}


def test_page_size_at_the_most_is_taken(api_client, acme_key, batch_with_errors):
    url = f"{BATCHES}{batch_with_errors.pk}/errors/?page_size=1000&page=1"
    response = api_client.get(url, **bearer(acme_key[1]))
    assert response.status_code == 200 and response.json()["count"] == 3


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("validate_only=null", "validate_only"),
        ("validate_only=", "validate_only"),
        ("received_after=", "received_after"),
    ],
)
def test_batch_filters_when_unreadable_answer_400(
    api_client, acme_key, batch_with_errors, query, name
):
    assert_400_for(api_client.get(f"{BATCHES}?{query}", **bearer(acme_key[1])), name)


@pytest.mark.parametrize(("value", "count"), [("true", 0), ("FALSE", 1), ("0", 1)])
def test_batch_validate_only_filter_when_boolean_filters(
    api_client, acme_key, batch_with_errors, value, count
):
    response = api_client.get(f"{BATCHES}?validate_only={value}", **bearer(acme_key[1]))
    assert response.status_code == 200 and response.json()["count"] == count


def test_audit_since_when_empty_answers_400(api_client):
    api_client.force_login(bureau_user("audrey", "auditor"))
    assert_400_for(api_client.get("/api/v1/audit-events/?since="), "since")


@pytest.mark.parametrize(
    ("path", "user"),
    [
        ("/api/v1/keys/", "alice"),
        ("/api/v1/disputes/", "carol"),
        ("/api/v1/subjects/1/statements/", "carol"),
        ("/api/v1/batches/1/share/", "alice"),
    ],
)
def test_options_when_asked_answers_200_json(api_client, alice, path, user):
    """Views that choose their serializer per method made DRF's OPTIONS a 500."""
    who = alice if user == "alice" else bureau_user(user, "compliance")
    api_client.force_login(who)
    response = api_client.options(path)
    assert response.status_code == 200
    body = response.json()
    assert body["renders"] == ["application/json"] and "actions" not in body


# -- multipart file names ------------------------------------------------------------


def multipart(filename: bytes, content: bytes) -> tuple[bytes, str]:
    """A body built by hand: the file name's bytes exactly as given."""
    boundary = "----bureau-test-boundary"
    body = (
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + filename
        + b'"\r\nContent-Type: text/csv\r\n\r\n'
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    ("raw_name", "stored"),
    [
        ("报送.csv".encode("gbk"), "报送.csv"),  # a Chinese Windows client
        (b"caf\xe9.csv", "café.csv"),  # Latin-1: neither UTF-8 nor GBK
        ("报送.csv".encode(), "报送.csv"),  # UTF-8 as ever
    ],
)
def test_upload_when_file_name_is_not_utf8_is_read_as_the_file(
    acme_key, raw_name, stored
):
    body, content_type = multipart(raw_name, csv_bytes([good_row()]))
    response = Client().post(
        BATCHES, data=body, content_type=content_type, **bearer(acme_key[1])
    )
    assert response.status_code == 202, response.json()
    batch = Batch.objects.get(pk=response.json()["id"])
    assert batch.original_name == stored and batch.format == "csv"


# -- text fields take text, enum filters take their values -----------------------------


@pytest.mark.parametrize("value", [0, 1.5])
def test_text_field_when_given_a_number_or_object_answers_400(api_client, value):
    from tests.factories import MemberFactory

    MemberFactory(code="initech")
    api_client.force_login(bureau_user("carol", "compliance"))
    response = api_client.post(
        "/api/v1/members/initech/suspend/", {"reason": value}, format="json"
    )
    assert_400_for(response, "reason")


def test_key_name_when_a_number_answers_400(api_client, alice):
    api_client.force_login(alice)
    body = {"name": 7, "scopes": ["query"]}
    response = api_client.post("/api/v1/keys/", body, format="json")
    assert response.json()["errors"]["name"] == ["Not a valid string."]


@pytest.mark.parametrize(
    "path", ["/api/v1/disputes/?status=", "/api/v1/members/?status="]
)
def test_status_filter_when_given_empty_answers_400(api_client, path):
    api_client.force_login(bureau_user("carol", "compliance"))
    assert_400_for(api_client.get(path), "status")


@pytest.mark.parametrize("field", ["encoding", "format", "validate_only"])
def test_upload_when_a_form_field_is_empty_answers_400(api_client, acme_key, field):
    from tests.records.helpers import upload_file

    data = {"file": upload_file("r.csv", csv_bytes([good_row()])), field: ""}
    response = api_client.post(BATCHES, data, format="multipart", **bearer(acme_key[1]))
    assert_400_for(response, field)
    assert not Batch.objects.exists()


def test_text_when_longer_than_allowed_as_sent_answers_400(api_client, acme_key):
    """The length counts what was sent, spaces around included, as the schema's
    maxLength does."""
    url = "\r\r" + "http://hooks.example/" + "a" * 478  # 501 sent, 499 once trimmed
    body = {"url": url, "events": ["batch.completed"]}
    response = api_client.post(
        "/api/v1/webhooks/", body, format="json", **bearer(acme_key[1])
    )
    assert_400_for(response, "url")


def test_upload_when_a_form_field_is_repeated_answers_400(api_client, acme_key):
    from tests.records.helpers import upload_file

    data = {
        "file": upload_file("r.csv", csv_bytes([good_row()])),
        "validate_only": ["true", "false"],
    }
    response = api_client.post(BATCHES, data, format="multipart", **bearer(acme_key[1]))
    assert_400_for(response, "validate_only")
