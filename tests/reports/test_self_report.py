"""The subject's self-report: everything on file, every inquiry with the asking
member named; two free a calendar year, then chargeable."""

import pytest
from django.utils import timezone

from bureau.audit.models import AuditEvent
from bureau.records.models import Subject
from members.models import Role
from members.principals import KeyPrincipal
from reports.models import Inquiry
from reports.services.query import QueryInput, query_run
from reports.services.self_report import self_report_produce
from tests.factories import bureau_user, issue_key
from tests.records.helpers import ID_A, csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(db):
    """Carol works in bureau compliance."""
    return bureau_user("carol", Role.COMPLIANCE)


@pytest.fixture
def subject(acme, globex) -> Subject:
    """Acme and Globex both report 张三; both looked him up, Globex with a wrong name
    (a miss that still looked up his number)."""
    ingest(acme, csv_bytes([good_row(account_no="ACME-1")]))
    ingest(globex, csv_bytes([good_row(account_no="GLOBEX-7")]))
    person = {"id_type": "resident_id", "id_number": ID_A, "consent_reference": "C-1"}
    for member, name, purpose in (
        (acme, "张三", "loan_approval"),
        (globex, "张三", "post_loan_management"),
        (globex, "张山", "loan_approval"),
    ):
        query_run(
            actor=KeyPrincipal(issue_key(member)[0]),
            member=member,
            data=QueryInput(**person, name=name, purpose=purpose),
        )
    return Subject.objects.get()


def url(subject) -> str:
    return f"/api/v1/subjects/{subject.pk}/self-report/"


def test_self_report_when_produced_names_every_asking_member(
    api_client, carol, subject
):
    api_client.force_login(carol)
    response = api_client.post(url(subject))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {(i["member"], i["purpose"], i["found"]) for i in body["inquiry_log"]} == {
        ("Acme Lending", "loan_approval", True),
        ("Globex Credit", "post_loan_management", True),
        ("Globex Credit", "loan_approval", False),
    }
    assert all(i["at"] for i in body["inquiry_log"])
    # everything on file, furnishers named
    assert {a["furnisher"] for a in body["accounts"]} == {"acme", "globex"}
    assert body["profile"]["accounts_total"] == 2
    assert body["chargeable"] is False and body["number_this_year"] == 1


def test_self_report_when_rendered_shows_disputes_and_statements(
    api_client, carol, subject
):
    from bureau.records.models import Record
    from bureau.records.services.disputes import dispute_open
    from bureau.records.services.statements import statement_add

    record = Record.objects.get(account_no="ACME-1")
    dispute_open(record=record, claim="Never borrowed from Acme.", actor=carol)
    statement_add(subject=subject, text="I repaid Globex in cash.", actor=carol)
    report = self_report_produce(subject=subject, actor=carol)
    (dispute,) = report["disputes"]
    assert (dispute["furnisher"], dispute["status"]) == ("acme", "open")
    assert report["statements"][0]["text"] == "I repaid Globex in cash."

    api_client.force_login(carol)
    html = api_client.get(
        f"/api/v1/queries/{report['inquiry_id']}/report/", {"format": "html"}
    ).content.decode()
    assert "Never borrowed from Acme." in html
    assert "I repaid Globex in cash." in html
    assert 'data-status="open"' in html


def test_self_report_when_third_in_a_year_is_chargeable(carol, subject):
    numbers = [
        self_report_produce(subject=subject, actor=carol)["chargeable"]
        for _ in range(3)
    ]
    assert numbers == [False, False, True]


def test_self_report_when_earlier_ones_were_last_year_is_free(carol, subject):
    for _ in range(2):
        self_report_produce(subject=subject, actor=carol)
    last_year = timezone.now().replace(year=timezone.now().year - 1)
    Inquiry.objects.filter(purpose="self_inquiry").update(created_at=last_year)
    assert self_report_produce(subject=subject, actor=carol)["chargeable"] is False


def test_self_report_when_produced_is_an_inquiry_and_audited(carol, subject):
    report = self_report_produce(subject=subject, actor=carol)
    inquiry = Inquiry.objects.get(pk=report["inquiry_id"])
    assert (inquiry.purpose, inquiry.member, inquiry.user) == (
        "self_inquiry",
        None,
        carol,
    )
    assert inquiry.hit and inquiry.report["chargeable"] is False
    event = AuditEvent.objects.get(action="self_report.produce")
    assert event.object_id == str(inquiry.pk)
    assert event.details["number_this_year"] == 1


def test_self_report_when_produced_does_not_count_as_lenders_inquiry(carol, subject):
    self_report_produce(subject=subject, actor=carol)
    again = self_report_produce(subject=subject, actor=carol)
    # Acme's and Globex's hits; not the first self-report
    assert again["inquiries"]["last_1m"] == {"count": 2, "members": 2}


@pytest.mark.parametrize("role", [Role.BUREAU_ADMIN, Role.AUDITOR])
def test_self_report_when_requested_by_other_bureau_staff_returns_403(
    api_client, subject, role
):
    api_client.force_login(bureau_user("staff", role))
    assert api_client.post(url(subject)).status_code == 403


def test_self_report_when_requested_by_member_returns_403(api_client, alice, subject):
    api_client.force_login(alice)
    assert api_client.post(url(subject)).status_code == 403
    assert not Inquiry.objects.filter(purpose="self_inquiry").exists()


def test_self_report_when_subject_unknown_returns_404(api_client, carol):
    api_client.force_login(carol)
    response = api_client.post("/api/v1/subjects/999999/self-report/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
