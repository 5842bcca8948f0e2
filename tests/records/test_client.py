"""The member uploader (`python -m bureau.client`) as a real subprocess against a
live server and a real Celery worker: exit codes, stdout, errors file, idempotency;
and `python3 bureau_client.py` as members run it: a bare Python, without `rich`,
on every Python version the file claims (3.8 or later)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bureau.records.fileformat import COLUMNS
from bureau.records.models import Batch
from tests.records.helpers import ID_BAD_CHECKSUM, csv_bytes, good_row

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = str(ROOT / "bureau_client.py")
CLAIMED_MINORS = range(8, 14)  # Python 3.8 to 3.13, as bureau_client.py says
pytestmark = pytest.mark.celery_worker


def _client(*args: str, python: tuple[str, ...] | None = None):
    """The uploader in a subprocess: `python -m bureau.client` in this virtualenv,
    or the given interpreter command running bureau_client.py."""
    env = {
        name: value
        for name, value in os.environ.items()
        if "proxy" not in name.lower()
        and name not in ("BUREAU_URL", "BUREAU_API_KEY", "DJANGO_SETTINGS_MODULE")
        and not name.startswith("PYTHON")
    }
    command = [*python, SCRIPT] if python else [sys.executable, "-m", "bureau.client"]
    return subprocess.run(
        [*command, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _upload(live_server, key: str, path: Path, *extra: str, python=None):
    result = _client(
        "upload", str(path), "--url", live_server.url, "--key", key,
        "--poll-interval", "0.2", "--timeout", "30", *extra, python=python,
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


# -- bureau_client.py on a bare Python ------------------------------------------------

# -S: no site-packages, so no `rich` (nor anything else pip installed).
BARE = (sys.executable, "-S")


def test_upload_when_rich_missing_shows_plain_progress_and_exits_1(
    celery_worker, live_server, acme_key, tmp_path
):
    _, key = acme_key
    rows = [good_row(), good_row(account_no="X", id_number=ID_BAD_CHECKSUM)]
    path = _file(tmp_path, rows)
    result = _upload(live_server, key, path, python=BARE)
    assert result.returncode == 1, result.stderr
    batch_id = int(result.stdout.strip().splitlines()[-1])
    batch = Batch.objects.get(pk=batch_id)
    assert batch.status == "completed_with_errors"
    err = result.stderr
    assert "needs the 'rich'" not in err and "[bold" not in err and "[/]" not in err
    assert "hashing: 100%" in err and "uploading: 100%" in err
    assert f"Accepted as batch {batch_id}." in err
    assert f"Batch {batch_id}: completed_with_errors" in err
    assert any(line.split() == ["Rejected", "1"] for line in err.splitlines()), (
        err
    )  # the counts table, as plain lines
    assert f"1 rejected rows written to {path}.errors.csv" in err
    assert "110105********0021" in Path(f"{path}.errors.csv").read_text("utf-8-sig")


def test_upload_when_rich_missing_and_quiet_prints_only_the_batch(
    celery_worker, live_server, acme_key, tmp_path
):
    _, key = acme_key
    result = _upload(
        live_server, key, _file(tmp_path, [good_row()]), "--quiet", python=BARE
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout)["status"] == "completed"


def _python(minor: int) -> str | None:
    """An interpreter of Python 3.<minor> on this machine: on PATH or under pyenv."""
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = [shutil.which(f"python3.{minor}")]
    candidates += sorted(glob.glob(f"{root}/versions/3.{minor}.*/bin/python3.{minor}"))
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[1])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == str(minor):
            return candidate
    return None


@pytest.mark.parametrize("minor", CLAIMED_MINORS, ids=lambda m: f"python3.{m}")
def test_upload_runs_on_each_claimed_python(
    minor, celery_worker, live_server, acme_key, tmp_path
):
    python = _python(minor)
    if python is None:
        pytest.skip(f"no Python 3.{minor} on this machine (pyenv install 3.{minor})")
    _, key = acme_key
    path = _file(tmp_path, [good_row(account_no=f"ACC-{minor}")])
    result = _upload(live_server, key, path, python=(python, "-S"))
    assert result.returncode == 0, result.stderr
    batch = Batch.objects.get(pk=int(result.stdout.strip().splitlines()[-1]))
    assert batch.status == "completed" and batch.records_created == 1


def test_https_when_python_has_no_ssl_exits_4_saying_so(tmp_path):
    no_ssl = (
        "import runpy, sys; sys.modules['ssl'] = None; sys.argv = sys.argv[1:]; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    result = _client(
        "upload", str(_file(tmp_path, [good_row()])), "--key", "bk_abc_secret",
        "--url", "https://127.0.0.1:9", "--timeout", "1",
        python=(sys.executable, "-S", "-c", no_ssl),
    )  # fmt: skip
    assert result.returncode == 4, result.stderr
    assert "no 'ssl' module" in result.stderr and "Traceback" not in result.stderr
