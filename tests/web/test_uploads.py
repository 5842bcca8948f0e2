"""Uploader pages: batch list, upload form, live progress, rejected rows, errors CSV.

Client tests check permissions, refusals and the CSV; browser tests upload a real
file through the form and watch a real Celery worker ingest it."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bureau.audit.models import AuditEvent
from bureau.records.models import Batch
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.records.helpers import (
    ID_BAD_CHECKSUM,
    csv_bytes,
    good_row,
    ingest,
)
from tests.web.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

MASKED_BAD_ID = "110105********0021"


@pytest.fixture
def uploader(acme):
    return UserFactory(username="ursula", role="uploader", member=acme)


@pytest.fixture
def as_uploader(client, uploader):
    client.force_login(uploader)
    return client


@pytest.fixture
def finished_batch(acme):
    """A finished batch of Acme's with two rejected rows (one a formula)."""
    rows = [
        good_row(),
        good_row(account_no="B-2", id_number=ID_BAD_CHECKSUM),
        good_row(account_no="=HYPERLINK(1)"),
    ]
    return ingest(acme, csv_bytes(rows))


def _csv_file(data: bytes, name: str = "records.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


# --- permissions ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["web:batch-list", "web:batch-upload"])
def test_upload_pages_when_analyst_are_forbidden(client, bob, name):
    client.force_login(bob)
    assert client.get(reverse(name)).status_code == 403


def test_upload_when_analyst_posts_is_forbidden_and_nothing_stored(client, bob):
    client.force_login(bob)
    response = client.post(
        reverse("web:batch-upload"), {"file": _csv_file(csv_bytes([good_row()]))}
    )
    assert response.status_code == 403 and not Batch.objects.exists()


def test_upload_pages_when_anonymous_redirect_to_login(client):
    response = client.get(reverse("web:batch-list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    "name", ["web:batch-detail", "web:batch-progress", "web:batch-errors-csv"]
)
def test_batch_pages_when_other_members_batch_are_404(
    client, charlie, finished_batch, name
):
    client.force_login(charlie)  # Globex's member admin, a stranger to Acme
    url = reverse(name, kwargs={"batch_id": finished_batch.pk})
    assert client.get(url).status_code == 404


def test_batch_list_when_other_member_has_batches_shows_only_own(
    as_uploader, finished_batch, globex
):
    theirs = ingest(globex, csv_bytes([good_row(account_no="G-1")]))
    page = as_uploader.get(reverse("web:batch-list")).content.decode()
    assert f"#{finished_batch.pk}<" in page and f"#{theirs.pk}<" not in page


# --- list -------------------------------------------------------------------------


def test_batch_list_when_filtered_by_status_shows_matching_batches(as_uploader, acme):
    done = ingest(acme, csv_bytes([good_row()]))
    with_errors = ingest(
        acme, csv_bytes([good_row(account_no="E", id_number=ID_BAD_CHECKSUM)])
    )
    url = reverse("web:batch-list")
    page = as_uploader.get(url, {"status": "completed_with_errors"}).content.decode()
    assert f"#{with_errors.pk}<" in page and f"#{done.pk}<" not in page
    assert 'data-status="completed_with_errors"' in page


def test_batch_list_when_many_batches_is_paginated(as_uploader, acme):
    for i in range(27):
        Batch.objects.create(
            member=acme, file=f"x{i}", size_bytes=1, sha256=f"{i:064d}", format="csv"
        )
    first = as_uploader.get(reverse("web:batch-list")).content.decode()
    second = as_uploader.get(reverse("web:batch-list"), {"page": 2}).content.decode()
    assert first.count('data-status="received"') == 25
    assert second.count('data-status="received"') == 2 and 'rel="prev"' in second


# --- upload -----------------------------------------------------------------------


def test_upload_when_file_valid_creates_batch_and_redirects_to_detail(as_uploader):
    response = as_uploader.post(
        reverse("web:batch-upload"),
        {
            "file": _csv_file(csv_bytes([good_row()], encoding="gbk")),
            "encoding": "gbk",
            "validate_only": "on",
        },
    )
    batch = Batch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:batch-detail", args=[batch.pk])
    assert (batch.encoding, batch.validate_only, batch.strict) == ("gbk", True, False)
    assert batch.uploaded_by.username == "ursula"


def test_upload_when_unknown_column_shows_problem_code_and_fields(as_uploader):
    data = csv_bytes([{**good_row(), "colour": "red"}], columns=[*good_row(), "colour"])
    response = as_uploader.post(reverse("web:batch-upload"), {"file": _csv_file(data)})
    page = response.content.decode()
    assert response.status_code == 400 and not Batch.objects.exists()
    assert 'role="alert"' in page and "<code>unknown_columns</code>" in page
    assert "未知列：colour" in page  # the site's default language


def test_upload_when_file_empty_shows_empty_file_refusal(as_uploader):
    response = as_uploader.post(reverse("web:batch-upload"), {"file": _csv_file(b"")})
    assert response.status_code == 400
    assert "<code>empty_file</code>" in response.content.decode()


def test_upload_when_no_file_chosen_shows_field_error(as_uploader):
    response = as_uploader.post(reverse("web:batch-upload"), {"encoding": "auto"})
    assert (
        response.status_code == 400 and 'class="errorlist' in response.content.decode()
    )


def test_upload_when_same_file_again_goes_to_the_first_batch(as_uploader, acme):
    data = csv_bytes([good_row()])
    first = ingest(acme, data)
    response = as_uploader.post(reverse("web:batch-upload"), {"file": _csv_file(data)})
    assert response["Location"] == reverse("web:batch-detail", args=[first.pk])
    assert Batch.objects.count() == 1


# --- detail, progress, errors -----------------------------------------------------


def test_progress_when_batch_running_polls_and_when_final_stops(
    as_uploader, acme, finished_batch
):
    running = Batch.objects.create(
        member=acme, file="x", size_bytes=1, sha256="1" * 64, format="csv",
        status=Batch.Status.PROCESSING, progress=0.42,
    )  # fmt: skip
    live = as_uploader.get(reverse("web:batch-progress", args=[running.pk]))
    text = live.content.decode()
    assert 'hx-trigger="every 1s"' in text and 'value="42"' in text
    assert "<html" not in text  # a partial, not a page
    final = as_uploader.get(reverse("web:batch-progress", args=[finished_batch.pk]))
    assert "hx-trigger" not in final.content.decode()


def test_detail_when_final_shows_counts_and_masked_errors(as_uploader, finished_batch):
    page = as_uploader.get(
        reverse("web:batch-detail", args=[finished_batch.pk])
    ).content.decode()
    assert 'data-status="completed_with_errors"' in page
    assert MASKED_BAD_ID in page and ID_BAD_CHECKSUM not in page
    assert "hx-trigger" not in page
    assert reverse("web:batch-errors-csv", args=[finished_batch.pk]) in page


def test_detail_errors_when_filtered_by_column_show_only_that_column(
    as_uploader, finished_batch
):
    url = reverse("web:batch-detail", args=[finished_batch.pk])
    page = as_uploader.get(url, {"column": "account_no"}).content.decode()
    assert "=HYPERLINK(1)" in page and MASKED_BAD_ID not in page
    assert "column=account_no" in page  # the CSV link keeps the filter


def test_detail_errors_when_many_are_paginated_by_50(as_uploader, acme):
    rows = [good_row(account_no=f"A{i}", id_number=ID_BAD_CHECKSUM) for i in range(55)]
    batch = ingest(acme, csv_bytes(rows))
    url = reverse("web:batch-detail", args=[batch.pk])
    first = as_uploader.get(url).content.decode()
    second = as_uploader.get(url, {"page": 2}).content.decode()
    assert first.count(MASKED_BAD_ID) == 50 and second.count(MASKED_BAD_ID) == 5


def test_errors_csv_when_downloaded_is_masked_formula_safe_and_audited(
    as_uploader, uploader, finished_batch
):
    response = as_uploader.get(
        reverse("web:batch-errors-csv", args=[finished_batch.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"batch-{finished_batch.pk}-errors.csv" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    cells = list(csv.reader(io.StringIO(text)))
    assert cells[0] == ["row", "column", "code", "message", "value"]
    values = {row[1]: row[4] for row in cells[1:]}
    assert values["id_number"] == MASKED_BAD_ID
    assert values["account_no"] == "'=HYPERLINK(1)"
    assert ID_BAD_CHECKSUM not in text
    event = AuditEvent.objects.get(action="batch.errors_download")
    assert event.actor_user_id == uploader.pk


# --- the page's language ---------------------------------------------------------

# Stored in English; shown in the page's language, the code unchanged.
SHOWN = {
    "en": ("Must be between 0 and 9999.", "Resident id check character is wrong."),
    "zh-hans": ("须在 0 至 9999 之间。", "居民身份证号校验位错误。"),
}


@pytest.fixture
def rejected_batch(acme):
    rows = [
        good_row(),
        good_row(account_no="D-1", days_overdue="10000"),
        good_row(account_no="C-1", id_number=ID_BAD_CHECKSUM),
    ]
    return ingest(acme, csv_bytes(rows))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_rejected_rows_when_page_in_a_language_show_messages_in_it(
    as_uploader, rejected_batch, language
):
    url = reverse("web:batch-detail", args=[rejected_batch.pk])
    page = as_uploader.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    other = "en" if language == "zh-hans" else "zh-hans"
    assert all(message in page for message in SHOWN[language])
    assert not any(message in page for message in SHOWN[other])
    assert "<code>out_of_range</code>" in page
    assert "<code>invalid_checksum</code>" in page


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_errors_csv_when_page_in_a_language_has_messages_in_it_and_same_codes(
    as_uploader, rejected_batch, language
):
    response = as_uploader.get(
        reverse("web:batch-errors-csv", args=[rejected_batch.pk]),
        HTTP_ACCEPT_LANGUAGE=language,
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    cells = list(csv.reader(io.StringIO(text)))
    assert cells[0] == ["row", "column", "code", "message", "value"]
    assert [(r[1], r[2], r[3]) for r in cells[1:]] == [
        ("days_overdue", "out_of_range", SHOWN[language][0]),
        ("id_number", "invalid_checksum", SHOWN[language][1]),
    ]


def test_rejected_rows_when_language_switched_follow_the_switch(
    as_uploader, rejected_batch
):
    as_uploader.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    url = reverse("web:batch-detail", args=[rejected_batch.pk])
    page = as_uploader.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert SHOWN["zh-hans"][0] in page  # the chosen language wins over the browser's


def test_failure_reason_when_page_in_zh_hans_is_translated_with_its_code(
    as_uploader, acme
):
    rows = [good_row(), good_row(account_no="X", days_overdue="10000")]
    failed = ingest(acme, csv_bytes(rows), strict=True)
    assert failed.failure_reason.startswith("strict: 1 of 2 rows rejected")
    url = reverse("web:batch-detail", args=[failed.pk])
    page = as_uploader.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "严格模式：2 行中有 1 行被拒绝，未写入任何数据" in page
    encoding = Batch.objects.filter(pk=failed.pk)
    encoding.update(
        failure_reason="encoding: Line 3 is not valid gbk text: the file mixes "
        "encodings or is damaged. Save the whole file in one encoding (UTF-8 or "
        "GBK) and send it again."
    )
    page = as_uploader.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "encoding：第 3 行不是有效的 gbk 文本" in page


@pytest.mark.parametrize(
    ("language", "detail", "problem"),
    [
        ("zh-hans", "表头行中有未知的列名。", "未知列：colour"),
        ("en", "The header row names unknown columns.", "unknown column: colour"),
    ],
)
def test_upload_refusal_when_page_in_a_language_is_in_it(
    as_uploader, language, detail, problem
):
    data = csv_bytes([{**good_row(), "colour": "red"}], columns=[*good_row(), "colour"])
    response = as_uploader.post(
        reverse("web:batch-upload"),
        {"file": _csv_file(data)},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    page = response.content.decode()
    assert "<code>unknown_columns</code>" in page
    assert detail in page and problem in page


# --- in the browser ---------------------------------------------------------------


@pytest.mark.celery_worker
def test_upload_in_browser_when_one_row_bad_shows_progress_errors_and_csv(
    page, login, live_server, uploader, celery_worker, settings
):
    # Many rows in small chunks: the batch runs long enough to watch it progress.
    settings.BUREAU_INGEST_CHUNK_ROWS = 10
    rows = [good_row(account_no=f"ACC-{i}") for i in range(3000)]
    rows.insert(200, good_row(account_no="BAD-1", id_number=ID_BAD_CHECKSUM))
    login("ursula", DEFAULT_PASSWORD)
    assert page.url.rstrip("/").endswith("/batches")  # the uploader's start page

    page.click("text=Upload a file")
    upload = {"name": "records.csv", "mimeType": "text/csv", "buffer": csv_bytes(rows)}
    page.set_input_files("input[type=file]", files=[upload])
    page.click("button[type=submit]:has-text('Upload')")
    page.wait_for_url(re.compile(r"/batches/\d+/$"))
    # Catch the bar part-way if we can; a fast machine may finish first.
    page.wait_for_function(
        "() => { const bar = document.querySelector('#batch-progress-bar');"
        " return !bar || bar.value > 0; }",
        timeout=10_000,
    )
    if page.locator("#batch-progress-bar").count():
        screenshot(page, "fixture-batch-progress")
    else:
        screenshot(page, "fixture-batch-detail")

    page.get_by_text("Completed with errors").first.wait_for(timeout=30_000)
    errors = page.locator("#batch-errors table")
    errors.wait_for()
    assert MASKED_BAD_ID in errors.inner_text()
    assert ID_BAD_CHECKSUM not in page.content()
    assert page.locator("#batch-progress-bar").count() == 0
    screenshot(page, "fixture-batch-errors")

    with page.expect_download() as info:
        page.click("text=Download errors (CSV)")
    download = info.value
    assert download.suggested_filename.endswith("-errors.csv")
    with open(download.path(), encoding="utf-8-sig") as handle:
        cells = list(csv.reader(handle))
    assert cells[0] == ["row", "column", "code", "message", "value"]
    assert [(r[0], r[1], r[2], r[4]) for r in cells[1:]] == [
        ("201", "id_number", "invalid_checksum", MASKED_BAD_ID)
    ]

    page.click("nav >> text=Uploads")
    page.wait_for_url(re.compile(r"/batches/$"))
    assert page.locator("table [data-status=completed_with_errors]").count() == 1
    screenshot(page, "fixture-uploads-list")
