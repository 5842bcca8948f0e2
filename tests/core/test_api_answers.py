"""What every answer under /api/ carries: messages in one language (the one
Accept-Language asks for, else English; the printable report in the site's), and
`Cache-Control: no-store` on personal data. tests/core/test_api_language.py walks
the refusals of every app in both languages."""

import re

import pytest
from django.utils import translation
from rest_framework.exceptions import NotAuthenticated

from tests.conftest import bearer
from tests.factories import UserFactory, bureau_user
from tests.records.helpers import ID_A, csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db
QUERIES = "/api/v1/queries/"
LANGUAGES = ["zh-hans", "en"]


@pytest.fixture
def furnished(acme):
    ingest(acme, csv_bytes([good_row(account_no="ACME-1")]))
    return acme


def ask(client, key, headers=None, **overrides):
    body = {
        "id_type": "resident_id",
        "id_number": ID_A,
        "name": "张三",
        "purpose": "loan_approval",
        "consent_reference": "CONSENT-1",
        **overrides,
    }
    return client.post(QUERIES, body, format="json", **bearer(key), **(headers or {}))


def english(text: str) -> bool:
    return text.isascii() and any(ch.isalpha() for ch in text)


def chinese(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


IN_LANGUAGE = {"en": english, "zh-hans": chinese}


# -- one language per request ---------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_project_refusal_and_drf_refusal_when_language_chosen_are_one_language(
    api_client, acme_key, language
):
    """A refusal of ours (the query service's 400) and DRF's own (401, 405, 415,
    a parse error, a field message) answer in the same language: the one asked."""
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    ours = ask(api_client, acme_key[1], headers, id_number="123").json()
    unauthenticated = api_client.get("/api/v1/members/me/", **headers).json()
    key = bearer(acme_key[1])
    not_allowed = api_client.put(QUERIES, {}, format="json", **key, **headers).json()
    media = api_client.post(
        QUERIES, "x", content_type="text/plain", **key, **headers
    ).json()
    parse = api_client.post(
        QUERIES, "{", content_type="application/json", **key, **headers
    ).json()
    field = api_client.post(
        QUERIES, {"id_type": "nope"}, format="json", **key, **headers
    ).json()
    messages = [
        ours["detail"],
        *ours["errors"]["id_number"],
        unauthenticated["detail"],
        not_allowed["detail"],
        media["detail"],
        parse["detail"],
        *field["errors"]["id_type"],
        *field["errors"]["name"],
    ]
    assert all(IN_LANGUAGE[language](message) for message in messages), messages
    with translation.override(language):
        assert unauthenticated["detail"] == NotAuthenticated.default_detail


@pytest.mark.parametrize("language", LANGUAGES)
def test_api_answer_when_language_chosen_says_which(api_client, language):
    response = api_client.get("/api/v1/members/me/", HTTP_ACCEPT_LANGUAGE=language)
    assert response["Content-Language"] == language


def test_session_language_when_chosen_keeps_drf_refusals_english(api_client, alice):
    """The web's language switch (a cookie) picks the site's language, not the
    API's messages: without Accept-Language they are English."""
    api_client.force_login(alice)
    api_client.cookies["django_language"] = "zh-hans"
    body = api_client.put("/api/v1/keys/", {}, format="json").json()
    assert body["detail"] == 'Method "PUT" not allowed.'


@pytest.mark.parametrize(
    ("language", "title"), [("zh-hans", "信用报告"), ("en", "Credit report")]
)
def test_report_page_when_language_chosen_is_in_that_language(
    api_client, furnished, acme_key, language, title
):
    inquiry_id = ask(api_client, acme_key[1]).json()["inquiry_id"]
    response = api_client.get(
        f"{QUERIES}{inquiry_id}/report/?format=html",
        HTTP_ACCEPT_LANGUAGE=language,
        **bearer(acme_key[1]),
    )
    assert response.status_code == 200
    assert response["Content-Language"] == language
    html = response.content.decode()
    assert f'lang="{language}"' in html and title in html


# -- Cache-Control: no-store ---------------------------------------------------------


def assert_not_stored(response) -> None:
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives, response["Cache-Control"]


def test_query_answer_and_miss_when_sent_are_not_stored(
    api_client, furnished, acme_key
):
    hit = ask(api_client, acme_key[1])
    assert hit.status_code == 200
    assert_not_stored(hit)
    miss = ask(api_client, acme_key[1], name="李四")
    assert miss.status_code == 404
    assert_not_stored(miss)


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_report_when_read_is_not_stored(api_client, furnished, acme_key, fmt):
    inquiry_id = ask(api_client, acme_key[1]).json()["inquiry_id"]
    response = api_client.get(
        f"{QUERIES}{inquiry_id}/report/?format={fmt}", **bearer(acme_key[1])
    )
    assert response.status_code == 200
    assert_not_stored(response)


def test_self_report_and_subject_inquiries_when_read_are_not_stored(
    api_client, furnished, acme_key
):
    from bureau.records.models import Subject

    ask(api_client, acme_key[1])
    subject = Subject.objects.get()
    api_client.force_login(bureau_user("carol", "compliance"))
    report = api_client.post(f"/api/v1/subjects/{subject.pk}/self-report/")
    inquiries = api_client.get(f"/api/v1/subjects/{subject.pk}/inquiries/")
    assert (report.status_code, inquiries.status_code) == (201, 200)
    assert_not_stored(report)
    assert_not_stored(inquiries)


def test_csv_download_when_streamed_is_not_stored(api_client, furnished, acme_key):
    from bureau.records.models import Batch

    batch = Batch.objects.get()
    response = api_client.get(
        f"/api/v1/batches/{batch.pk}/errors/?format=csv", **bearer(acme_key[1])
    )
    assert response.status_code == 200
    assert_not_stored(response)


def test_web_report_page_when_read_is_not_stored(client, furnished, acme_key):
    from reports.models import Inquiry

    bob = UserFactory(username="bob", role="analyst", member=furnished)
    client.post(
        QUERIES,
        {
            "id_type": "resident_id",
            "id_number": ID_A,
            "name": "张三",
            "purpose": "loan_approval",
            "consent_reference": "C-1",
        },
        content_type="application/json",
        **bearer(acme_key[1]),
    )
    client.force_login(bob)
    inquiry = Inquiry.objects.get()
    response = client.get(f"/lookup/{inquiry.pk}/")
    assert response.status_code == 200
    assert_not_stored(response)
