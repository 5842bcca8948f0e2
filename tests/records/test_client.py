"""The member uploader (`python -m bureau.client`) as a real subprocess against a
live server and a real Celery worker: exit codes, stdout, errors file, idempotency."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bureau.records.fileformat import COLUMNS
from bureau.records.models import Batch
from tests.records.helpers import ID_BAD_CHECKSUM, csv_bytes, good_row

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.celery_worker


def _client(*args: str) -> subprocess.CompletedProcess:
    env = {
        name: value
        for name, value in os.environ.items()
        if "proxy" not in name.lower()
        and name not in ("BUREAU_URL", "BUREAU_API_KEY", "DJANGO_SETTINGS_MODULE")
    }
    return subprocess.run(
        [sys.executable, "-m", "bureau.client", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _upload(live_server, key: str, path: Path, *extra: str):
    result = _client(
        "upload", str(path), "--url", live_server.url, "--key", key,
        "--poll-interval", "0.2", "--timeout", "30", *extra,
    )  # fmt: skip
    assert key not in result.stdout + result.stderr  # never print the key
    return result


def _file(tmp_path: Path, rows: list[dict], name="records.csv", **kwargs) -> Path:
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows, **kwargs))
    return path


def test_upload_when_file_clean_exits_0_and_prints_batch_id_last(
    celery_worker, live_server, acme_key, tmp_path
):
    _, key = acme_key
    rows = [good_row(), good_row(account_no="ACC-2")]
    path = _file(tmp_path, rows, name="还款 记录.csv")
    result = _upload(live_server, key, path)
    assert result.returncode == 0, result.stderr
    batch = Batch.objects.get(pk=int(result.stdout.strip().splitlines()[-1]))
    assert batch.status == "completed" and batch.records_created == 2
    assert batch.original_name == "还款 记录.csv"
    assert not Path(f"{path}.errors.csv").exists()


def test_upload_when_row_rejected_exits_1_and_writes_masked_errors_csv(
    celery_worker, live_server, acme_key, tmp_path
):
    _, key = acme_key
    rows = [good_row(), good_row(account_no="X", id_number=ID_BAD_CHECKSUM)]
    path = _file(tmp_path, rows)
    result = _upload(live_server, key, path)
    assert result.returncode == 1, result.stderr
    errors = Path(f"{path}.errors.csv")
    assert str(errors) in result.stderr
    text = errors.read_text(encoding="utf-8-sig")
    assert text.startswith("row,column,code,message,value")
    assert "110105********0021" in text and ID_BAD_CHECKSUM not in text
    batch_id = result.stdout.strip().splitlines()[-1]
    batch = Batch.objects.get(pk=int(batch_id))
    assert batch.status == "completed_with_errors" and batch.rows_rejected == 1

    common = ("--url", live_server.url, "--key", key, "--quiet")
    status = _client("status", batch_id, *common)
    assert status.returncode == 1 and json.loads(status.stdout)["rows_rejected"] == 1
    again = tmp_path / "again.csv"
    fetched = _client("errors", batch_id, "--out", str(again), *common)
    assert fetched.returncode == 0, fetched.stderr
    assert again.read_bytes() == errors.read_bytes()


def test_upload_when_unknown_column_exits_2_with_the_problem(
    live_server, acme_key, tmp_path
):
    _, key = acme_key
    path = _file(tmp_path, [good_row()], columns=[*COLUMNS, "shoe_size"])
    result = _upload(live_server, key, path)
    assert result.returncode == 2
    assert "unknown_columns" in result.stderr and "shoe_size" in result.stderr
    assert not Batch.objects.exists()


def test_upload_when_key_wrong_exits_2_with_invalid_key(
    live_server, acme_key, tmp_path
):
    _, key = acme_key
    wrong = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")
    result = _upload(live_server, wrong, _file(tmp_path, [good_row()]))
    assert result.returncode == 2
    assert "invalid_key" in result.stderr
    assert not Batch.objects.exists()


def test_upload_when_same_file_twice_returns_same_batch(
    celery_worker, live_server, acme_key, tmp_path
):
    _, key = acme_key
    path = _file(tmp_path, [good_row()])
    first = _upload(live_server, key, path)
    again = _upload(live_server, key, path, "--quiet")
    assert (first.returncode, again.returncode) == (0, 0), again.stderr
    body = json.loads(again.stdout)  # --quiet: only the batch JSON on stdout
    assert body["id"] == int(first.stdout.strip().splitlines()[-1])
    assert body["status"] == "completed" and Batch.objects.count() == 1


def test_upload_when_file_too_large_exits_2_with_too_large(
    live_server, acme_key, tmp_path, settings
):
    settings.BUREAU_MAX_UPLOAD_BYTES = 1000  # refused from Content-Length alone
    _, key = acme_key
    rows = [good_row(account_no=f"ACC-{n}") for n in range(2000)]
    result = _upload(live_server, key, _file(tmp_path, rows))
    assert result.returncode == 2
    assert "too_large" in result.stderr


def test_upload_when_bureau_unreachable_exits_3(tmp_path):
    result = _client(
        "upload", str(_file(tmp_path, [good_row()])), "--key", "bk_abc_secret",
        "--url", "http://127.0.0.1:9", "--timeout", "1",
    )  # fmt: skip
    assert result.returncode == 3
    assert "cannot reach http://127.0.0.1:9" in result.stderr
    assert "bk_abc_secret" not in result.stderr
