"""One language per API answer: the one `Accept-Language` asks for (zh-hans or
en), else English, whatever the site's language cookie says. Refusals of every
app, Bureau's and DRF's own, are wholly in it, and `Content-Language` says which.
`code` is the same in both."""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.http import StreamingHttpResponse
from django.test import RequestFactory
from django.utils import translation
from django.utils.translation import gettext
from rest_framework import exceptions, serializers
from rest_framework.test import APIClient

from bureau.core import api_middleware
from bureau.records.models import Record
from bureau.records.services.disputes import dispute_open
from members.models import Role, User
from members.services import api_key_revoke
from tests.conftest import bearer
from tests.factories import bureau_user, issue_key
from tests.records.helpers import ID_A, csv_bytes, good_row, ingest

QUERIES = "/api/v1/queries/"
# As browsers and HTTP libraries send them.
ASKING = {"en": "en-US,en;q=0.9", "zh-hans": "zh-CN,zh;q=0.9,en;q=0.8"}
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
HAN = re.compile(r"[\u4e00-\u9fff]")


def query_body(**overrides) -> dict:
    return {
        "id_type": "resident_id",
        "id_number": ID_A,
        "name": "张三",
        "purpose": "loan_approval",
        "consent_reference": "CONSENT-1",
        **overrides,
    }


def in_chinese(text) -> str:
    """What DRF (or Django) says in zh-hans, for its own messages."""
    with translation.override("zh-hans"):
        return str(text() if callable(text) else text)


# -- the walk: one refusal of each kind, of each app -------------------------------


@dataclass(frozen=True)
class Refusal:
    send: Callable  # (pytest request, headers) -> response
    status: int
    code: str
    detail_zh: str | Callable[[], str]  # the zh-hans detail, exactly


def _key(request, scopes=("upload", "query", "monitor")) -> str:
    return issue_key(request.getfixturevalue("acme"), scopes=scopes)[1]


def _staff(username: str, role: str) -> User:
    """A bureau user, the same one for both languages' requests."""
    return User.objects.filter(username=username).first() or bureau_user(username, role)


def _logged_in(user, **client_options) -> APIClient:
    client = APIClient(**client_options)
    client.force_login(user)
    return client


def query_refused(request, headers):
    body = query_body(id_number="123", consent_reference="")
    return APIClient().post(
        QUERIES, body, format="json", **bearer(_key(request)), **headers
    )


def fields_refused_by_drf(request, headers):
    return APIClient().post(
        QUERIES, {"id_type": "nope"}, format="json", **bearer(_key(request)), **headers
    )


def query_without_contribution(request, headers):
    return APIClient().post(
        QUERIES, query_body(), format="json", **bearer(_key(request)), **headers
    )


def key_without_scope(request, headers):
    key = _key(request, scopes=("upload",))
    return APIClient().post(
        QUERIES, query_body(), format="json", **bearer(key), **headers
    )


def role_not_allowed(request, headers):
    client = _logged_in(request.getfixturevalue("bob"))
    return client.get("/api/v1/keys/", **headers)


def unknown_key(request, headers):
    key = _key(request)
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    return APIClient().get("/api/v1/members/me/", **bearer(forged), **headers)


def no_credentials(request, headers):
    return APIClient().get("/api/v1/members/me/", **headers)


def dispute_twice(request, headers):
    acme = request.getfixturevalue("acme")
    carol = _staff("carol", Role.COMPLIANCE)
    record = Record.objects.filter(member=acme).first()
    if record is None:
        ingest(acme, csv_bytes([good_row(account_no="ACME-1")]))
        record = Record.objects.get(member=acme)
        dispute_open(record=record, claim="Never borrowed.", actor=carol)
    body = {"record_id": record.pk, "claim": "Again."}
    return _logged_in(carol).post("/api/v1/disputes/", body, format="json", **headers)


def revoked_key_rotated(request, headers):
    alice = request.getfixturevalue("alice")
    key, _ = issue_key(request.getfixturevalue("acme"))
    api_key_revoke(key=key, actor=alice)
    return _logged_in(alice).post(f"/api/v1/keys/{key.pk}/rotate/", **headers)


def audit_format_refused(request, headers):
    client = _logged_in(_staff("aude", Role.AUDITOR))
    return client.get("/api/v1/audit-events/?format=xml", **headers)


def webhook_url_refused(request, headers):
    body = {"url": "ftp://example.com/hook", "events": ["batch.completed"]}
    return APIClient().post(
        "/api/v1/webhooks/", body, format="json", **bearer(_key(request)), **headers
    )


def body_not_json(request, headers):
    return APIClient().post(
        QUERIES,
        '{"id_type": ',
        content_type="application/json",
        **bearer(_key(request)),
        **headers,
    )


def media_type_refused(request, headers):
    return APIClient().post(
        QUERIES, "x", content_type="text/plain", **bearer(_key(request)), **headers
    )


def method_not_allowed(request, headers):
    return APIClient().put(
        QUERIES, {}, format="json", **bearer(_key(request)), **headers
    )


def unknown_path(request, headers):
    return APIClient().get("/api/v1/no-such-thing/", **headers)


def path_without_slash(request, headers):
    return APIClient().get("/api/v1/queries", **headers)


def object_not_found(request, headers):
    client = _logged_in(_staff("carol", Role.COMPLIANCE))
    return client.get("/api/v1/disputes/999999/", **headers)


def nul_in_query_string(request, headers):
    return APIClient().get("/api/v1/inquiries/?code=a%00b", **headers)


def too_many_queries(request, headers):
    request.getfixturevalue("fresh_rate_window")
    request.getfixturevalue("settings").BUREAU_QUERY_RATE_PER_USER = "1/hour"
    client = _logged_in(_staff("carol", Role.COMPLIANCE))
    body = query_body(purpose="dispute_handling", consent_reference="")
    client.post(QUERIES, body, format="json", **headers)  # the one allowed
    return client.post(QUERIES, body, format="json", **headers)


def csrf_token_missing(request, headers):
    client = _logged_in(request.getfixturevalue("alice"), enforce_csrf_checks=True)
    body = {"name": "k", "scopes": ["query"]}
    return client.post("/api/v1/keys/", body, format="json", **headers)


def _drf_required() -> str:
    return serializers.Field.default_error_messages["required"]


REFUSALS = {
    "query fields (reports)": Refusal(
        query_refused, 400, "validation_error", "部分字段无效。"
    ),
    "DRF field messages": Refusal(
        fields_refused_by_drf, 400, "validation_error", "部分字段无效。"
    ),
    "give-to-get (reports)": Refusal(
        query_without_contribution,
        403,
        "contribution_required",
        "贵机构须先报送记录才能查询（“先报送、后查询”）。",
    ),
    "key scope (members)": Refusal(
        key_without_scope, 403, "scope_missing", "该密钥没有“query”作用域。"
    ),
    "role (members)": Refusal(
        role_not_allowed, 403, "permission_denied", "您的角色无权执行此操作。"
    ),
    "unknown key (members)": Refusal(unknown_key, 401, "invalid_key", "API 密钥无效。"),
    "no credentials (DRF)": Refusal(
        no_credentials,
        401,
        "not_authenticated",
        lambda: exceptions.NotAuthenticated.default_detail,
    ),
    "open dispute (records)": Refusal(
        dispute_twice, 409, "conflict", "该记录已有一项待答复的异议。"
    ),
    "revoked key rotated (members)": Refusal(
        revoked_key_rotated, 409, "conflict", "已吊销的密钥不能轮换，请签发新密钥。"
    ),
    "audit format (audit)": Refusal(
        audit_format_refused, 400, "validation_error", "部分字段无效。"
    ),
    "webhook URL (reports)": Refusal(
        webhook_url_refused, 400, "validation_error", "部分字段无效。"
    ),
    "body not JSON (DRF)": Refusal(
        body_not_json,
        400,
        "parse_error",
        "请求体不是有效的 JSON：错误位于第 1 行第 13 列。",
    ),
    "media type (DRF)": Refusal(
        media_type_refused,
        415,
        "unsupported_media_type",
        lambda: exceptions.UnsupportedMediaType("text/plain").detail,
    ),
    "method (DRF)": Refusal(
        method_not_allowed,
        405,
        "method_not_allowed",
        lambda: exceptions.MethodNotAllowed("PUT").detail,
    ),
    "unknown path (Django)": Refusal(
        unknown_path, 404, "not_found", lambda: gettext("Not found.")
    ),
    "missing slash (Django)": Refusal(
        path_without_slash,
        404,
        "not_found",
        "未找到。API 路径以斜杠结尾：/api/v1/queries/",
    ),
    "no such object": Refusal(
        object_not_found, 404, "not_found", lambda: gettext("Not found.")
    ),
    "NUL in a parameter": Refusal(
        nul_in_query_string, 400, "validation_error", "部分字段无效。"
    ),
    "rate limit": Refusal(
        too_many_queries, 429, "rate_limited", "已超过频率限制（1/hour），请稍后重试。"
    ),
    "CSRF (DRF's session check)": Refusal(
        csrf_token_missing, 403, "csrf_failed", "CSRF 校验失败：未设置 CSRF Cookie。"
    ),
}


def messages_of(body: dict) -> list[str]:
    return [body["detail"], *(m for ms in body["errors"].values() for m in ms)]


@pytest.mark.django_db
@pytest.mark.parametrize("name", REFUSALS)
def test_refusal_when_language_asked_is_wholly_in_that_language(request, name):
    refusal = REFUSALS[name]
    answers = {}
    for language, header in ASKING.items():
        response = refusal.send(request, {"HTTP_ACCEPT_LANGUAGE": header})
        assert (response.status_code, response.json()["code"]) == (
            refusal.status,
            refusal.code,
        ), response.content
        assert response["Content-Language"] == language
        answers[language] = response.json()
    english, chinese = answers["en"], answers["zh-hans"]
    assert not CJK.search(json.dumps(english, ensure_ascii=False)), english
    assert all(HAN.search(message) for message in messages_of(chinese)), chinese
    assert chinese["detail"] == in_chinese(refusal.detail_zh)
    # The same refusal: the same code, the same fields, as many messages.
    assert {field: len(ms) for field, ms in chinese["errors"].items()} == {
        field: len(ms) for field, ms in english["errors"].items()
    }


@pytest.mark.django_db
def test_field_messages_when_asked_in_chinese_are_the_translations(api_client, acme):
    key = issue_key(acme)[1]
    headers = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    body = query_body(id_number="123", consent_reference="")
    ours = api_client.post(QUERIES, body, format="json", **bearer(key), **headers)
    drf = api_client.post(
        QUERIES, {"id_type": "nope"}, format="json", **bearer(key), **headers
    )
    assert ours.json()["errors"] == {
        "id_number": ["居民身份证号须为 18 位（17 位数字加 1 位数字或 X）。"],
        "consent_reference": ["该查询原因须填写授权书编号。"],
    }
    assert drf.json()["errors"]["name"] == [in_chinese(_drf_required)]


# -- which language ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("", "en"),
        ("zh", "zh-hans"),
        ("zh-CN", "zh-hans"),
        ("zh-cn", "zh-hans"),
        ("zh-Hans-CN", "zh-hans"),
        ("zh-hans", "zh-hans"),
        ("en-US,en;q=0.9", "en"),
        ("en;q=0.5, zh-CN", "zh-hans"),  # in the order of preference
        ("fr, zh;q=0.5", "zh-hans"),  # the first one spoken
        ("fr, de", "en"),
        ("zh;q=0, en;q=0.1", "en"),  # q=0: not Chinese
        ("*", "en"),
        ("not a language!", "en"),
    ],
)
def test_api_language_when_asked_is_accept_language_else_english(header, language):
    request = RequestFactory().get("/api/v1/queries/", HTTP_ACCEPT_LANGUAGE=header)
    assert api_middleware.api_language(request) == language


@pytest.mark.django_db
def test_api_answer_when_no_language_asked_is_english(api_client):
    response = api_client.get("/api/v1/members/me/")
    assert response["Content-Language"] == "en"
    assert response.json()["detail"] == "Authentication credentials were not provided."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("cookie", "header", "language"),
    [("zh-hans", "", "en"), ("en", "zh-CN", "zh-hans")],
)
def test_api_answer_when_site_language_chosen_follows_accept_language_only(
    alice, cookie, header, language
):
    """The site's language switch (a cookie) picks the site's language, not the
    API's: a logged-in browser's API answers follow Accept-Language too."""
    client = _logged_in(alice)
    client.cookies["django_language"] = cookie
    response = client.put(
        "/api/v1/keys/", {}, format="json", HTTP_ACCEPT_LANGUAGE=header
    )
    assert response["Content-Language"] == language
    with translation.override(language):
        assert response.json()["detail"] == exceptions.MethodNotAllowed("PUT").detail


def test_streamed_answer_when_read_after_the_view_is_in_the_asked_language():
    """A download's rows are made while the client reads, after the middleware
    has returned (and the site's language is active again)."""

    def view(request):
        lines = (gettext("Some fields are invalid.").encode() for _ in range(2))
        return StreamingHttpResponse(lines)

    request = RequestFactory().get("/api/v1/x/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    with translation.override("en"):  # the site's language, as LocaleMiddleware set
        response = api_middleware.ApiMiddleware(view)(request)
        body = b"".join(response.streaming_content).decode()
    assert body == "部分字段无效。" * 2
    assert response["Content-Language"] == "zh-hans"


def _django_csrf_reasons() -> list[str]:
    """Every reason Django's CSRF check gives (django/middleware/csrf.py)."""
    from django.middleware import csrf

    middleware = csrf.CsrfViewMiddleware(lambda request: None)
    sources = ["POST", "HTTP_X_CSRFTOKEN"]
    problems = [csrf.REASON_INCORRECT_LENGTH, csrf.REASON_INVALID_CHARACTERS]
    return [
        csrf.REASON_BAD_ORIGIN % "https://evil.example",
        csrf.REASON_NO_REFERER,
        csrf.REASON_BAD_REFERER % "https://evil.example/",
        csrf.REASON_MALFORMED_REFERER,
        csrf.REASON_INSECURE_REFERER,
        csrf.REASON_NO_CSRF_COOKIE,
        csrf.REASON_CSRF_TOKEN_MISSING,
        *(f"CSRF cookie {problem}." for problem in problems),
        *(
            middleware._bad_token_message(problem, source)
            for problem in [*problems, "incorrect"]
            for source in sources
        ),
    ]


@pytest.mark.parametrize("reason", _django_csrf_reasons())
def test_csrf_refusal_when_asked_in_chinese_translates_djangos_reason(reason):
    from bureau.core.errors import csrf_detail

    with translation.override("en"):
        assert csrf_detail(reason) == f"CSRF check failed: {reason}"
    with translation.override("zh-hans"):
        detail = csrf_detail(reason)
    words = re.sub(
        r"https://\S+|'X-Csrftoken'|CSRF|Cookie|Origin|Referer|POST|HTTP", "", detail
    )
    assert HAN.search(detail) and not re.search(r"[A-Za-z]", words), detail
