"""`report_read`: the one place a report's reading is found and audited, for
the API (json, html, pdf) and the web page ("web"). Bob (Acme's analyst) asked;
Charlie (Globex) is a stranger."""

import pytest

from bureau.audit.models import AuditEvent
from bureau.core.errors import NotFound, ValidationFailed
from reports.services.query import QueryInput, query_run
from reports.services.report import WEB_FORMAT, report_read
from tests.records.helpers import ID_A, csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def inquiry(acme, bob):
    ingest(acme, csv_bytes([good_row()]))
    data = QueryInput(
        id_type="resident_id",
        id_number=ID_A,
        name="张三",
        purpose="loan_approval",
        consent_reference="CONSENT-1",
    )
    inquiry, _ = query_run(actor=bob, member=acme, data=data)
    return inquiry


def views():
    return AuditEvent.objects.filter(action="report.view")


@pytest.mark.parametrize(
    ("fmt", "formats"), [("pdf", ("json", "html", "pdf")), (WEB_FORMAT, (WEB_FORMAT,))]
)
def test_report_read_when_own_inquiry_audits_one_view_with_format(
    inquiry, acme, bob, fmt, formats
):
    read = report_read(
        actor=bob, member=acme, inquiry_id=inquiry.pk, fmt=fmt, formats=formats
    )
    assert read.pk == inquiry.pk and read.report == inquiry.report
    event = views().get()
    assert event.object_id == str(inquiry.pk) and event.member_id == acme.pk
    assert event.details == {"format": fmt, "subject": inquiry.subject_id}


def test_report_read_when_another_members_is_not_found_and_not_audited(
    inquiry, globex, charlie
):
    with pytest.raises(NotFound):
        report_read(actor=charlie, member=globex, inquiry_id=inquiry.pk, fmt="json")
    assert not views().exists()


def test_report_read_when_format_unknown_refuses_and_does_not_audit(inquiry, acme, bob):
    with pytest.raises(ValidationFailed):
        report_read(actor=bob, member=acme, inquiry_id=inquiry.pk, fmt="xml")
    assert not views().exists()
