"""A report tells every time in the site's TIME_ZONE: its JSON carries the local
offset (+08:00), like every other time of the API, and its HTML the local clock."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from bureau.records.models import Dispute, Record, SubjectStatement
from tests.conftest import bearer
from tests.records.helpers import ID_A, csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db
QUERIES = "/api/v1/queries/"
SHANGHAI = timedelta(hours=8)


@pytest.fixture
def answered(api_client, acme, globex, acme_key, settings):
    """Acme asked about 张三, whom Globex reports with a dispute and a statement."""
    # The default zone (.env.example); in UTC the test could not tell.
    assert settings.TIME_ZONE == "Asia/Shanghai"
    ingest(acme, csv_bytes([good_row(account_no="ACME-1")]))
    ingest(globex, csv_bytes([good_row(account_no="G-1")]))
    record = Record.objects.get(account_no="G-1")
    now = timezone.now()
    Dispute.objects.create(
        record=record, subject=record.subject, member_id=record.member_id,
        claim="Not mine", opened_at=now - timedelta(days=2),
        due_at=now + timedelta(days=18),
    )  # fmt: skip
    SubjectStatement.objects.create(subject=record.subject, text="我有异议")
    key = acme_key[1]
    response = api_client.post(
        QUERIES,
        {"id_type": "resident_id", "id_number": ID_A, "name": "张三",
         "purpose": "loan_approval", "consent_reference": "CONSENT-1"},
        format="json", **bearer(key),
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    return key, response.json()


def test_report_json_when_answered_gives_every_time_with_the_local_offset(answered):
    _, report = answered
    times = [
        report["generated_at"],
        *(d[k] for d in report["disputes"] for k in ("opened_at", "due_at")),
        *(s["added_at"] for s in report["statements"]),
    ]
    assert len(times) == 4
    assert all(t.endswith("+08:00") for t in times), times
    generated = datetime.fromisoformat(report["generated_at"])
    assert abs(timezone.now() - generated) < timedelta(minutes=1)


def test_report_when_read_again_as_json_and_html_shows_the_local_time(
    api_client, answered
):
    key, report = answered
    url = f"{QUERIES}{report['inquiry_id']}/report/"
    stored = api_client.get(url, **bearer(key)).json()
    assert stored["generated_at"] == report["generated_at"]
    local = datetime.fromisoformat(report["generated_at"])
    assert local.utcoffset() == SHANGHAI
    html = api_client.get(url, {"format": "html"}, **bearer(key)).content.decode()
    shown = re.search(r"(\d{4}-\d\d-\d\d \d\d:\d\d) CST", html)
    assert shown and shown.group(1) == f"{local:%Y-%m-%d %H:%M}"
