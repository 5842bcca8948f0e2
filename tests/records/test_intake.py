"""The file intake shared by uploads and screenings: measure, refuse, store."""

import hashlib
import io

import pytest
from django.core.files.storage import default_storage
from django.utils import translation

from bureau.core.errors import TooLarge, ValidationFailed
from bureau.records.intake import (
    FURNISHING_FILE,
    FileKind,
    FileRefused,
    file_accept,
    file_receive,
)
from tests.records.helpers import csv_bytes, good_row, gz

SCREENING_FILE = FileKind(columns=("id_type", "id_number", "name"), required=())


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def stored(media) -> list[str]:
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


def accept(data: bytes, *, filename="r.csv", kind=FURNISHING_FILE, **kwargs):
    received = file_receive(handle=io.BytesIO(data), filename=filename, digest=True)
    return file_accept(received=received, kind=kind, directory="batches/acme", **kwargs)


def receive(handle, *, digest=True, **kwargs):
    return file_receive(handle=handle, filename="r.csv", digest=digest, **kwargs)


class _Unreadable(io.BytesIO):
    def read(self, *args):
        raise AssertionError("read")


# -- file_receive --------------------------------------------------------------------


def test_file_receive_when_digest_gives_sha256_size_and_rewinds():
    handle = io.BytesIO(b"abc,def\n")
    handle.seek(3)

    received = receive(handle, content_type="text/csv")

    assert received.sha256 == hashlib.sha256(b"abc,def\n").hexdigest()
    assert (received.size, received.filename, received.content_type) == (
        8,
        "r.csv",
        "text/csv",
    )
    assert received.handle is handle and handle.tell() == 0


def test_file_receive_when_no_digest_reads_nothing():
    handle = _Unreadable(b"x" * 10)

    received = receive(handle, digest=False)

    assert (received.size, received.sha256) == (10, "")
    assert handle.tell() == 0


@pytest.mark.parametrize("digest", [True, False])
def test_file_receive_when_over_the_limit_is_too_large(digest):
    with pytest.raises(TooLarge) as caught:
        receive(io.BytesIO(b"x" * 11), max_bytes=10, digest=digest)

    assert str(caught.value.detail) == "The file is larger than 10 bytes."


def test_file_receive_when_at_the_limit_passes():
    assert receive(io.BytesIO(b"x" * 10), max_bytes=10).size == 10


def test_file_receive_when_no_limit_given_uses_the_upload_setting(settings):
    settings.BUREAU_MAX_UPLOAD_BYTES = 9

    with pytest.raises(TooLarge):
        receive(io.BytesIO(b"x" * 10))


# -- file_accept ---------------------------------------------------------------------


def test_file_accept_when_readable_stores_under_directory(media):
    data = csv_bytes([good_row()])

    accepted = accept(data)

    assert accepted.name.startswith("batches/acme/") and accepted.name.endswith(".csv")
    assert stored(media) == [accepted.name]
    assert default_storage.open(accepted.name).read() == data
    assert accepted.sha256 == hashlib.sha256(data).hexdigest()
    assert accepted.size == len(data)
    assert (accepted.format, accepted.encoding, accepted.compressed) == (
        "csv",
        "utf-8",
        False,
    )


def test_file_accept_when_gzip_keeps_gz_suffix(media):
    accepted = accept(gz(csv_bytes([good_row()])), filename="r.csv.gz")

    assert accepted.name.endswith(".csv.gz") and accepted.compressed


def test_file_accept_when_encoding_given_keeps_it_lower_case(media):
    data = csv_bytes([good_row(name="欧阳娜娜")], encoding="gbk")

    assert accept(data, encoding="GBK").encoding == "gbk"


def test_file_accept_when_gbk_detected_reports_it(media):
    data = csv_bytes([good_row(name="欧阳娜娜")], encoding="gbk")

    assert accept(data).encoding == "gbk"


def test_file_accept_when_format_given_does_not_detect(media):
    data = csv_bytes([good_row()])

    assert accept(data, filename="records.bin", fmt="csv").format == "csv"


@pytest.mark.parametrize(
    ("option", "field", "message"),
    [
        ({"encoding": "latin-1"}, "encoding", "Must be utf-8 or gbk."),
        ({"fmt": "xlsx"}, "format", "Must be csv or jsonl."),
    ],
)
def test_file_accept_when_option_unknown_refuses_and_stores_nothing(
    media, option, field, message
):
    with pytest.raises(ValidationFailed) as caught:
        accept(csv_bytes([good_row()]), **option)

    assert caught.value.errors == {field: [message]}
    assert stored(media) == []


def test_file_accept_when_format_unknown_is_415_and_stores_nothing(media):
    with pytest.raises(FileRefused) as caught:
        accept(b"\x00\x01\x02", filename="r.bin")

    assert (caught.value.code, caught.value.status_code) == ("unsupported_format", 415)
    assert stored(media) == []


def test_file_accept_when_no_data_rows_refuses_empty_file(media):
    with pytest.raises(FileRefused) as caught:
        accept(csv_bytes([]))

    assert caught.value.code == "empty_file" and caught.value.status_code == 400
    assert stored(media) == []


def test_file_accept_when_kind_given_reads_its_header(media):
    data = b"id_type,id_number,name\nresident_id,1,A\n"

    accepted = accept(data, kind=SCREENING_FILE)

    assert accepted.format == "csv"
    with pytest.raises(FileRefused):
        accept(data)  # not a furnishing header


def test_accepted_discard_deletes_the_stored_file(media):
    accepted = accept(csv_bytes([good_row()]))

    accepted.discard()

    assert stored(media) == []


def test_accepted_audit_details_when_digest_name_sha256_size_and_format(media):
    data = csv_bytes([good_row()])

    details = accept(data).audit_details()

    assert list(details) == ["sha256", "size", "format"]
    assert details["size"] == len(data) and details["format"] == "csv"


def test_accepted_audit_details_when_no_digest_leave_sha256_out(media):
    received = receive(io.BytesIO(csv_bytes([good_row()])), digest=False)
    accepted = file_accept(received=received, kind=FURNISHING_FILE, directory="s")

    assert list(accepted.audit_details()) == ["size", "format"]
