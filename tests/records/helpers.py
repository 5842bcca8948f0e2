"""Building furnishing files for tests."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from bureau.records.fileformat import COLUMNS
from bureau.records.models import Batch
from bureau.records.services.ingest import batch_ingest
from bureau.records.services.upload import batch_create

ID_A = "11010519491231002X"
ID_B = "360426199101010071"
ID_C = "440524188001010014"
ID_BAD_CHECKSUM = "110105194912310021"
PHONE = "13812345678"


def days_ago(n: int) -> str:
    return (timezone.localdate() - timedelta(days=n)).isoformat()


def good_row(**overrides) -> dict[str, str]:
    row = {
        "account_no": "ACC-1",
        "id_type": "resident_id",
        "id_number": ID_A,
        "name": "张三",
        "role": "borrower",
        "loan_type": "consumer",
        "currency": "CNY",
        "principal": "10000.00",
        "balance": "8000.00",
        "amount_overdue": "1200.50",
        "days_overdue": "45",
        "status": "overdue",
        "classification": "",
        "opened_on": days_ago(400),
        "due_on": days_ago(-300),
        "first_delinquency_on": days_ago(75),
        "as_of": days_ago(30),
        "phone": PHONE,
        "payment_history": "21N",
        "action": "",
    }
    row.update({key: str(value) for key, value in overrides.items()})
    return row


def current_row(**overrides) -> dict[str, str]:
    base = {
        "days_overdue": "0",
        "amount_overdue": "0",
        "status": "current",
        "first_delinquency_on": "",
        "payment_history": "NNN",
    }
    return good_row(**{**base, **overrides})


def csv_bytes(
    rows: list[dict], *, columns=COLUMNS, encoding="utf-8", bom=False
) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def jsonl_bytes(rows: list[dict]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)  # the same bytes whenever it runs


def upload_file(name: str, data: bytes, content_type="text/csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def ingest(member, data: bytes, *, filename="records.csv", **kwargs) -> Batch:
    """Create and run a batch synchronously through the services."""
    batch, _ = batch_create(
        member=member, handle=io.BytesIO(data), filename=filename, **kwargs
    )
    return batch_ingest(batch_id=batch.pk)


def as_of(days_back: int) -> str:
    return (timezone.localdate() - timedelta(days=days_back)).isoformat()
