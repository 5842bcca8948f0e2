"""Reads never write: between an ingest's commit and its aggregation (which
stores the profile) a query, a watch and a screening show the profile computed
by the aggregation's own SELECT, and store nothing in records_profile.

Acme and Globex report 张三 (ID_A); their aggregation has not run (in these
tests nothing queued on commit runs), so no profile is stored yet.
"""

import io
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bureau.records.models import Profile, Subject
from bureau.records.services.aggregate import profiles_refresh
from reports.services.query import QueryInput, query_run
from reports.services.report import build_report
from reports.services.screening import screening_create, screening_run
from reports.services.watches import WatchInput, watch_create
from tests.records.helpers import ID_A, csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db

_WRITE = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE)\b", re.IGNORECASE)
_PROFILE_WRITE = re.compile(
    r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?records_profile\b", re.IGNORECASE
)


def profile_writes(captured: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"] for q in captured.captured_queries if _PROFILE_WRITE.search(q["sql"])
    ]


@pytest.fixture
def furnished(acme, globex):
    ingest(acme, csv_bytes([good_row(account_no="ACME-1")]))
    ingest(globex, csv_bytes([good_row(account_no="GLOBEX-7", days_overdue="100")]))
    subject = Subject.objects.get()
    assert not Profile.objects.exists()  # aggregation has not run
    return subject


def stored_figures(subject: Subject) -> dict:
    """What the aggregation stores, for comparison (run after the read)."""
    profiles_refresh(subject_ids=[subject.pk])
    profile = Profile.objects.get(subject=subject)
    return {
        "platforms_total": profile.platforms_total,
        "max_days_overdue": profile.max_days_overdue,
        "blacklisted": profile.blacklisted,
    }


def test_build_report_when_no_profile_stored_runs_only_selects(furnished):
    with CaptureQueriesContext(connection) as captured:
        report = build_report(
            subject=furnished,
            inquiry_id=uuid.uuid4(),
            asking_member_id=None,
            show_member_names=True,
        )

    writes = [q["sql"] for q in captured.captured_queries if _WRITE.search(q["sql"])]
    assert writes == []
    assert not Profile.objects.exists()
    figures = stored_figures(furnished)
    profile = report["profile"]
    assert {name: profile[name] for name in figures} == figures


def test_query_when_no_profile_stored_writes_only_its_inquiry_and_audit(
    furnished, acme, bob
):
    data = QueryInput(
        id_type="resident_id",
        id_number=ID_A,
        name="张三",
        purpose="loan_approval",
        consent_reference="CONSENT-1",
    )
    with CaptureQueriesContext(connection) as captured:
        _, report = query_run(actor=bob, member=acme, data=data)

    writes = [q["sql"] for q in captured.captured_queries if _WRITE.search(q["sql"])]
    assert len(writes) == 1  # the inquiry, a CTE of its audit event's INSERT
    assert "reports_inquiry" in writes[0] and "audit_auditevent" in writes[0]
    assert profile_writes(captured) == []
    assert not Profile.objects.exists()
    assert report["profile"]["platforms_total"] == 2


def test_watch_when_no_profile_stored_snapshots_it_without_storing(
    furnished, acme, bob
):
    data = WatchInput(
        id_type="resident_id",
        id_number=ID_A,
        name="张三",
        consent_reference="CONSENT-1",
    )
    with CaptureQueriesContext(connection) as captured:
        watch = watch_create(actor=bob, member=acme, data=data)

    assert profile_writes(captured) == []
    assert not Profile.objects.exists()
    assert watch.last_snapshot["platforms_total"] == 2


def test_screening_when_no_profile_stored_reads_figures_without_storing(
    furnished, acme, bob
):
    screening = screening_create(
        actor=bob,
        member=acme,
        handle=io.BytesIO(
            f"id_type,id_number,name\nresident_id,{ID_A},张三\n".encode()
        ),
        filename="persons.csv",
        content_type="text/csv",
        purpose="loan_approval",
        consent_reference="CONSENT-1",
    )
    with CaptureQueriesContext(connection) as captured:
        screening_run(screening_id=screening.pk)

    assert profile_writes(captured) == []
    assert not Profile.objects.exists()
    result = screening.results.get()
    assert result.found and result.platforms_with_overdue == 2
