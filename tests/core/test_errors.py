"""Every error under /api/ is the same JSON problem body, with a request id."""

import pytest
from django.urls import path
from django.utils import translation
from rest_framework.views import APIView

from bureau.core.permissions import ANY_SCOPE, RoleOrScope
from tests.conftest import bearer


class Boom(APIView):
    permission_classes = [RoleOrScope]
    scopes = {"GET": ANY_SCOPE}

    def get(self, request):
        raise RuntimeError("kaboom: something internal")


urlpatterns = [path("api/v1/boom/", Boom.as_view())]


def assert_problem(response, status: int, code: str):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"code", "detail", "errors", "request_id"}
    assert body["code"] == code
    assert body["request_id"] == response["X-Request-ID"]
    return body


@pytest.mark.django_db
def test_validation_error_when_bad_input_returns_400_with_field_errors(
    api_client, alice
):
    api_client.force_login(alice)
    body = assert_problem(
        api_client.post("/api/v1/keys/", {"name": ""}, format="json"),
        400,
        "validation_error",
    )
    assert "name" in body["errors"] and "scopes" in body["errors"]


@pytest.mark.django_db
def test_unauthenticated_when_no_credentials_returns_401(api_client):
    assert_problem(api_client.get("/api/v1/members/me/"), 401, "not_authenticated")


@pytest.mark.django_db
def test_forbidden_when_role_lacks_right_returns_403(api_client, bob):
    api_client.force_login(bob)
    assert_problem(api_client.get("/api/v1/keys/"), 403, "permission_denied")


@pytest.mark.django_db
def test_not_found_when_route_unknown_returns_404_json(api_client):
    assert_problem(api_client.get("/api/v1/no-such-thing/"), 404, "not_found")


@pytest.mark.django_db
def test_not_found_when_object_missing_returns_404(api_client, alice):
    api_client.force_login(alice)
    assert_problem(api_client.get("/api/v1/keys/999999/"), 404, "not_found")


@pytest.mark.django_db
def test_method_not_allowed_returns_405(api_client, alice):
    api_client.force_login(alice)
    assert_problem(
        api_client.put("/api/v1/members/me/", {}, format="json"),
        405,
        "method_not_allowed",
    )


@pytest.mark.django_db
def test_unsupported_media_type_returns_415(api_client, alice):
    api_client.force_login(alice)
    response = api_client.post(
        "/api/v1/keys/", data="name=x", content_type="text/plain"
    )
    assert_problem(response, 415, "unsupported_media_type")


@pytest.mark.django_db
def test_malformed_json_returns_400_parse_error(api_client, alice):
    api_client.force_login(alice)
    response = api_client.post(
        "/api/v1/keys/", data="{not json", content_type="application/json"
    )
    assert_problem(response, 400, "parse_error")


@pytest.mark.django_db
@pytest.mark.urls("tests.core.test_errors")
def test_unexpected_exception_returns_500_json_and_is_logged(
    api_client, acme_key, caplog
):
    _, full_key = acme_key
    response = api_client.get("/api/v1/boom/", **bearer(full_key))
    body = assert_problem(response, 500, "server_error")
    assert "kaboom" not in body["detail"]
    logged = [r for r in caplog.records if r.name == "bureau.api"]
    assert logged and logged[0].exc_info is not None


@pytest.mark.django_db
def test_request_id_when_sent_is_echoed(api_client):
    response = api_client.get("/api/v1/members/me/", HTTP_X_REQUEST_ID="trace-abc.123")
    assert response["X-Request-ID"] == "trace-abc.123"
    assert response.json()["request_id"] == "trace-abc.123"


@pytest.mark.django_db
def test_request_id_when_absent_or_unsafe_is_generated(api_client):
    first = api_client.get("/api/v1/members/me/")
    unsafe = api_client.get(
        "/api/v1/members/me/", HTTP_X_REQUEST_ID="bad id\nwith newline"
    )
    assert len(first["X-Request-ID"]) == 32
    assert (
        unsafe["X-Request-ID"] != "bad id\nwith newline"
        and len(unsafe["X-Request-ID"]) == 32
    )


@pytest.mark.django_db
def test_log_lines_when_request_logged_carry_request_id(api_client, caplog):
    api_client.get("/api/v1/members/me/", HTTP_X_REQUEST_ID="trace-log-1")
    lines = [r for r in caplog.records if r.name == "django.request"]
    assert lines and all(getattr(r, "request_id", None) == "trace-log-1" for r in lines)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unknown_route_when_method_unsafe_returns_404_json_not_csrf_page(
    method, acme_key
):
    """Unknown API paths change nothing: no CSRF check, the same JSON 404."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)("/api/v1/no-such-thing/", **bearer(acme_key[1]))
    assert_problem(response, 404, "not_found")


@pytest.mark.django_db
def test_known_route_without_trailing_slash_returns_404_json_with_the_right_path(
    acme_key,
):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/v1/batches", **bearer(acme_key[1]))
    body = assert_problem(response, 404, "not_found")
    assert body["detail"] == "Not found. API paths end with a slash: /api/v1/batches/"


@pytest.mark.django_db
def test_csrf_refusal_when_under_api_is_json(alice):
    """Only views outside DRF meet Django's CSRF check (DRF makes its own)."""
    from django.test import RequestFactory

    from bureau.core.errors import csrf_failure

    request = RequestFactory().post("/api/v1/schema-like/")
    with translation.override("en"):  # ApiMiddleware's, for a request asking none
        response = csrf_failure(request, "CSRF cookie not set.")
    body = assert_problem_body(response, 403)
    assert body == {**body, "code": "csrf_failed"}
    assert "CSRF cookie not set." in body["detail"]
    page = csrf_failure(RequestFactory().post("/accounts/login/"), "no cookie")
    assert page.status_code == 403 and page["Content-Type"].startswith("text/html")
    # And Django's CSRF middleware uses it.
    from django.middleware.csrf import _get_failure_view

    assert _get_failure_view() is csrf_failure


@pytest.mark.django_db
def test_bad_host_when_under_api_returns_400_json():
    from django.test import Client

    response = Client().get("/api/v1/members/me/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "bad_request"


def assert_problem_body(response, status: int) -> dict:
    import json

    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)
