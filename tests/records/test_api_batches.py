"""Batch upload API: formats, encodings, refusals, idempotency, access, errors."""

import csv
import io
import logging

import pytest

from bureau.records.models import Batch, BatchError, Record
from bureau.records.services.ingest import batch_ingest
from tests.conftest import bearer
from tests.factories import issue_key
from tests.records.helpers import (
    ID_A,
    ID_BAD_CHECKSUM,
    PHONE,
    csv_bytes,
    good_row,
    gz,
    jsonl_bytes,
    upload_file,
)

pytestmark = pytest.mark.django_db
BATCHES = "/api/v1/batches/"


def post(client, key, name, data, content_type="text/csv", headers=None, **fields):
    return client.post(
        BATCHES,
        {"file": upload_file(name, data, content_type), **fields},
        format="multipart",
        **bearer(key),
        **(headers or {}),
    )


def run(response):
    assert response.status_code in (200, 202), response.json()
    return batch_ingest(batch_id=response.json()["id"])


def test_csv_upload_when_valid_returns_202_and_ingests(api_client, acme_key):
    _, key = acme_key
    response = post(api_client, key, "records.csv", csv_bytes([good_row()]))
    assert response.status_code == 202
    body = response.json()
    assert (
        body["status"] == "received"
        and body["format"] == "csv"
        and len(body["sha256"]) == 64
    )
    assert run(response).records_created == 1


@pytest.mark.parametrize("declared", [True, False])
def test_gbk_upload_when_declared_or_detected_keeps_chinese_name(
    api_client, acme_key, declared
):
    _, key = acme_key
    data = csv_bytes([good_row(name="欧阳娜娜")], encoding="gbk")
    fields = {"encoding": "gbk"} if declared else {}
    batch = run(post(api_client, key, "gbk.csv", data, **fields))
    assert batch.encoding == "gbk" and batch.records_created == 1
    assert Record.objects.get().subject.name == "欧阳娜娜"


def test_utf8_bom_upload_when_ingested_reads_header(api_client, acme_key):
    _, key = acme_key
    batch = run(post(api_client, key, "bom.csv", csv_bytes([good_row()], bom=True)))
    assert batch.records_created == 1 and batch.rows_rejected == 0


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("r.csv.gz", gz(csv_bytes([good_row()]))),
        ("r.jsonl.gz", gz(jsonl_bytes([good_row()]))),
        ("r.jsonl", jsonl_bytes([good_row()])),
    ],
)
def test_gzip_and_jsonl_uploads_when_ingested_create_record(
    api_client, acme_key, name, data
):
    _, key = acme_key
    batch = run(
        post(api_client, key, name, data, content_type="application/octet-stream")
    )
    assert batch.records_created == 1, list(BatchError.objects.values())


def test_unknown_column_when_uploaded_returns_400_unknown_columns(api_client, acme_key):
    _, key = acme_key
    data = csv_bytes([{**good_row(), "colour": "red"}], columns=[*good_row(), "colour"])
    response = post(api_client, key, "x.csv", data)
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_columns"
    assert not Batch.objects.exists()


def test_missing_column_when_uploaded_returns_400_missing_columns(api_client, acme_key):
    _, key = acme_key
    columns = [c for c in good_row() if c != "as_of"]
    response = post(api_client, key, "x.csv", csv_bytes([good_row()], columns=columns))
    assert response.status_code == 400
    assert response.json()["code"] == "missing_columns"


@pytest.mark.parametrize("data", [b"", csv_bytes([])])
def test_empty_file_when_uploaded_returns_400_empty_file(api_client, acme_key, data):
    _, key = acme_key
    response = post(api_client, key, "x.csv", data)
    assert response.status_code == 400
    assert response.json()["code"] == "empty_file"


def test_file_over_limit_when_uploaded_returns_413(api_client, acme_key, settings):
    _, key = acme_key
    settings.BUREAU_MAX_UPLOAD_BYTES = 200
    response = post(api_client, key, "x.csv", csv_bytes([good_row()] * 5))
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_unrecognised_format_when_uploaded_returns_415(api_client, acme_key):
    _, key = acme_key
    response = post(
        api_client,
        key,
        "x.bin",
        b"\x00\x01\x02garbage",
        content_type="application/octet-stream",
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_format"


def test_same_file_when_uploaded_again_returns_200_with_same_batch(
    api_client, acme_key
):
    _, key = acme_key
    data = csv_bytes([good_row()])
    first = post(api_client, key, "a.csv", data)
    again = post(api_client, key, "renamed.csv", data)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]


def test_idempotency_key_when_reused_returns_200_with_same_batch(api_client, acme_key):
    _, key = acme_key
    headers = {"HTTP_IDEMPOTENCY_KEY": "upload-2026-11-26"}
    first = post(api_client, key, "a.csv", csv_bytes([good_row()]), headers=headers)
    again = post(
        api_client, key, "a.csv", csv_bytes([good_row(account_no="B")]), headers=headers
    )
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


def test_idempotency_key_when_it_holds_an_identity_number_is_400_and_not_stored(
    api_client, acme_key
):
    _, key = acme_key
    for value in (f"upload-{ID_A}", f"u-{PHONE}", "+8613912345678"):
        response = post(
            api_client,
            key,
            "a.csv",
            csv_bytes([good_row()]),
            headers={"HTTP_IDEMPOTENCY_KEY": value},
        )
        assert response.status_code == 400, value
        assert response.json()["errors"] == {
            "Idempotency-Key": ["Must not contain identity numbers or phones."]
        }
    assert not Batch.objects.exists()


def test_idempotency_key_when_a_long_number_but_no_identity_is_accepted(
    api_client, acme_key
):
    headers = {"HTTP_IDEMPOTENCY_KEY": "upload-202401010001234567"}
    response = post(
        api_client, acme_key[1], "a.csv", csv_bytes([good_row()]), headers=headers
    )
    assert response.status_code == 202
    assert Batch.objects.get().idempotency_key == "upload-202401010001234567"


def test_file_name_when_it_holds_a_phone_is_stored_masked(api_client, acme_key):
    response = post(
        api_client, acme_key[1], f"张三-{PHONE}.csv", csv_bytes([good_row()])
    )
    assert response.json()["original_name"] == "张三-138****5678.csv"
    assert Batch.objects.get().original_name == "张三-138****5678.csv"


def test_key_without_upload_scope_when_uploading_returns_403_scope_missing(
    api_client, acme
):
    _, key = issue_key(acme, scopes=["query"])
    response = post(api_client, key, "a.csv", csv_bytes([good_row()]))
    assert response.status_code == 403
    assert response.json()["code"] == "scope_missing"


def test_analyst_when_uploading_returns_403(api_client, bob):
    api_client.force_login(bob)
    response = api_client.post(
        BATCHES,
        {"file": upload_file("a.csv", csv_bytes([good_row()]))},
        format="multipart",
    )
    assert response.status_code == 403


def test_other_member_when_reading_my_batch_or_errors_gets_404(
    api_client, acme_key, globex
):
    _, key = acme_key
    batch = run(
        post(api_client, key, "a.csv", csv_bytes([good_row(id_number=ID_BAD_CHECKSUM)]))
    )
    _, other_key = issue_key(globex)
    for path in (
        f"{BATCHES}{batch.pk}/",
        f"{BATCHES}{batch.pk}/errors/",
        f"{BATCHES}{batch.pk}/errors/?format=csv",
    ):
        assert api_client.get(path, **bearer(other_key)).status_code == 404
    assert api_client.get(BATCHES, **bearer(other_key)).json()["count"] == 0


def test_batch_list_when_filtered_by_status_returns_matching(api_client, acme_key):
    _, key = acme_key
    run(post(api_client, key, "a.csv", csv_bytes([good_row()])))
    run(
        post(api_client, key, "b.csv", csv_bytes([good_row(id_number=ID_BAD_CHECKSUM)]))
    )
    done = api_client.get(f"{BATCHES}?status=completed", **bearer(key)).json()
    with_errors = api_client.get(
        f"{BATCHES}?status=completed_with_errors", **bearer(key)
    ).json()
    assert (done["count"], with_errors["count"]) == (1, 1)


def test_batch_list_when_filtered_by_time_with_a_large_offset_uses_that_instant(
    api_client, acme_key
):
    """-18:52 is a valid ISO 8601 offset that PostgreSQL refuses: sent as UTC."""
    _, key = acme_key
    for name, received in (
        ("a.csv", "2020-01-01T18:00Z"),
        ("b.csv", "2020-01-01T19:00Z"),
    ):
        rows = csv_bytes([good_row(account_no=name)])  # another file, another batch
        response = post(api_client, key, name, rows)
        Batch.objects.filter(pk=response.json()["id"]).update(received_at=received)
    response = api_client.get(
        BATCHES, {"received_before": "2020-01-01T00:00:00-18:52"}, **bearer(key)
    )
    assert response.status_code == 200
    assert [b["received_at"][:16] for b in response.json()["results"]] == [
        "2020-01-02T02:00"  # 18:00 UTC in the site's time zone (UTC+8)
    ]


def test_errors_when_listed_are_paginated_with_masked_values(api_client, acme_key):
    _, key = acme_key
    rows = [good_row(account_no=f"A{i}", id_number=ID_BAD_CHECKSUM) for i in range(5)]
    batch = run(post(api_client, key, "a.csv", csv_bytes(rows)))
    page = api_client.get(
        f"{BATCHES}{batch.pk}/errors/?page_size=2", **bearer(key)
    ).json()
    assert page["count"] == 5 and len(page["results"]) == 2 and page["next"]
    first = page["results"][0]
    assert first == {
        "row": 1,
        "column": "id_number",
        "code": "invalid_checksum",
        "message": first["message"],
        "value": "110105********0021",
    }


def test_errors_csv_when_downloaded_is_masked_and_formula_safe(api_client, acme_key):
    _, key = acme_key
    rows = [good_row(id_number=ID_BAD_CHECKSUM), good_row(account_no="=HYPERLINK(1)")]
    batch = run(post(api_client, key, "a.csv", csv_bytes(rows)))
    response = api_client.get(f"{BATCHES}{batch.pk}/errors/?format=csv", **bearer(key))
    assert response.status_code == 200 and response["Content-Type"].startswith(
        "text/csv"
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    cells = list(csv.reader(io.StringIO(text)))
    assert cells[0] == ["row", "column", "code", "message", "value"]
    values = {row[1]: row[4] for row in cells[1:]}
    assert values["id_number"] == "110105********0021"
    assert values["account_no"] == "'=HYPERLINK(1)"
    assert ID_BAD_CHECKSUM not in text


def test_identity_and_phone_when_rejected_never_reach_logs(
    api_client, acme_key, caplog
):
    _, key = acme_key
    caplog.set_level(logging.DEBUG)
    bad_phone = "99912345678"
    rows = [
        good_row(id_number=ID_BAD_CHECKSUM, phone=bad_phone),
        good_row(account_no="X2"),
    ]
    batch = run(post(api_client, key, "a.csv", csv_bytes(rows)))
    api_client.get(f"{BATCHES}{batch.pk}/errors/", **bearer(key))
    logged = "\n".join(
        r.getMessage() + str(getattr(r, "kv", "")) for r in caplog.records
    )
    for secret in (ID_A, ID_BAD_CHECKSUM, PHONE, bad_phone):
        assert secret not in logged
    messages = " ".join(BatchError.objects.values_list("message", flat=True))
    assert ID_BAD_CHECKSUM not in messages and bad_phone not in messages


# --- messages in the request's language -------------------------------------------


@pytest.fixture
def rejected(api_client, acme_key):
    _, key = acme_key
    rows = [good_row(), good_row(account_no="D-1", days_overdue="10000")]
    return key, run(post(api_client, key, "a.csv", csv_bytes(rows)))


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"HTTP_ACCEPT_LANGUAGE": "en"}, "Must be between 0 and 9999."),
        ({"HTTP_ACCEPT_LANGUAGE": "zh-hans"}, "须在 0 至 9999 之间。"),
        ({"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}, "须在 0 至 9999 之间。"),
        ({}, "Must be between 0 and 9999."),  # a client that asks for none: English
    ],
)
def test_errors_when_accept_language_given_localise_message_and_keep_code(
    api_client, rejected, headers, message
):
    key, batch = rejected
    response = api_client.get(f"{BATCHES}{batch.pk}/errors/", **bearer(key), **headers)
    assert [(e["code"], e["message"]) for e in response.json()["results"]] == [
        ("out_of_range", message)
    ]
    assert "Accept-Language" in response["Vary"]
    stored = BatchError.objects.get(batch=batch).message
    assert stored == "Must be between 0 and 9999."  # stored as documented


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "Must be between 0 and 9999."), ("zh-hans", "须在 0 至 9999 之间。")],
)
def test_errors_csv_when_accept_language_given_localises_message_and_keeps_code(
    api_client, rejected, language, message
):
    key, batch = rejected
    response = api_client.get(
        f"{BATCHES}{batch.pk}/errors/?format=csv",
        **bearer(key),
        HTTP_ACCEPT_LANGUAGE=language,
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    cells = list(csv.reader(io.StringIO(text)))
    assert [r[1:4] for r in cells[1:]] == [["days_overdue", "out_of_range", message]]


@pytest.mark.parametrize(
    ("language", "detail", "problem"),
    [
        ("en", "The header row lacks required columns.", "missing column: as_of"),
        ("zh-hans", "表头行缺少必需的列。", "缺少列：as_of"),
    ],
)
def test_upload_refusal_when_accept_language_given_localises_detail_keeps_code(
    api_client, acme_key, language, detail, problem
):
    _, key = acme_key
    columns = [c for c in good_row() if c != "as_of"]
    response = post(
        api_client, key, "a.csv", csv_bytes([good_row()], columns=columns),
        headers={"HTTP_ACCEPT_LANGUAGE": language},
    )  # fmt: skip
    body = response.json()
    assert response.status_code == 400 and body["code"] == "missing_columns"
    assert body["detail"] == detail and problem in body["errors"]["columns"]


def test_batch_failure_reason_when_accept_language_given_is_localised(
    api_client, acme_key
):
    _, key = acme_key
    rows = [good_row(), good_row(account_no="X", days_overdue="10000")]
    batch = run(post(api_client, key, "a.csv", csv_bytes(rows), strict="true"))
    url = f"{BATCHES}{batch.pk}/"
    english = api_client.get(url, **bearer(key), HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = api_client.get(url, **bearer(key), HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert english["failure_reason"] == batch.failure_reason
    assert english["failure_reason"].startswith("strict: 1 of 2 rows rejected")
    assert chinese["failure_reason"].startswith("严格模式：2 行中有 1 行被拒绝")
    assert english["status"] == chinese["status"] == "failed"
