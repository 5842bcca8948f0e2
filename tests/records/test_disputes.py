"""Disputes and subject statements: compliance opens, the furnisher answers within
20 days or the record is suppressed; reports flag disputed records and show the
subject's statements.

Alice (Acme's member admin) furnished the disputed record; Bob is her analyst
teammate; Charlie (Globex) is a stranger; Carol is bureau compliance.
"""

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from bureau.audit.models import AuditEvent
from bureau.records.models import (
    Dispute,
    Profile,
    Record,
    RecordMonth,
    Subject,
    SubjectStatement,
)
from bureau.records.services.aggregate import profiles_refresh
from bureau.records.services.disputes import (
    dispute_answer,
    dispute_open,
    disputes_suppress_overdue,
)
from members.models import Role
from reports.services.report import build_report
from tests.conftest import bearer
from tests.factories import bureau_user, issue_key
from tests.records.helpers import ID_A, csv_bytes, days_ago, good_row, ingest

pytestmark = pytest.mark.django_db
DISPUTES = "/api/v1/disputes/"


@pytest.fixture
def carol(db):
    """Carol works in bureau compliance."""
    return bureau_user("carol", Role.COMPLIANCE)


@pytest.fixture
def furnished(acme, globex):
    """Acme and Globex both report 张三 (ID_A) overdue."""
    ingest(acme, csv_bytes([good_row(account_no="ACME-1")]))
    ingest(globex, csv_bytes([good_row(account_no="GLOBEX-7")]))
    records = Record.objects.get(member=acme), Record.objects.get(member=globex)
    profiles_refresh(subject_ids=[records[0].subject_id])  # the worker's job
    return records


@pytest.fixture
def acme_record(furnished):
    return furnished[0]


@pytest.fixture
def dispute(acme_record, carol):
    return dispute_open(
        record=acme_record, claim="Never borrowed from Acme.", actor=carol
    )


def report_for(subject, *, member=None):
    return build_report(
        subject=subject,
        inquiry_id=uuid.uuid4(),
        asking_member_id=member.pk if member else None,
        show_member_names=member is None,
    )


def profile_of(record) -> Profile:
    return Profile.objects.get(subject_id=record.subject_id)


# -- opening --------------------------------------------------------------------


def test_compliance_opens_dispute_when_record_on_file_returns_201_due_in_20_days(
    api_client, carol, acme_record
):
    api_client.force_login(carol)
    response = api_client.post(
        DISPUTES,
        {"record_id": acme_record.pk, "claim": "Paid in full in March."},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["furnisher"], body["days_left"]) == (
        "open",
        "acme",
        20,
    )
    dispute = Dispute.objects.get(pk=body["id"])
    assert dispute.due_at - dispute.opened_at == timedelta(days=20)
    assert (dispute.member.code, dispute.subject_id) == ("acme", acme_record.subject_id)
    event = AuditEvent.objects.get(action="dispute.open")
    assert event.object_id == str(dispute.pk) and "claim" not in event.details


def test_dispute_when_open_flags_record_in_every_report(dispute, acme, globex):
    subject = dispute.subject
    for reader in (globex, acme, None):
        report = report_for(subject, member=reader)
        flagged = {a["furnisher"]: a["under_dispute"] for a in report["accounts"]}
        (shown,) = report["disputes"]
        assert shown["status"] == "open" and flagged[shown["furnisher"]] is True
        assert sum(flagged.values()) == 1  # the other member's account is not
    # Globex sees Acme anonymised, and not the subject's claim
    assert report_for(subject, member=globex)["disputes"][0]["furnisher"].startswith(
        "platform "
    )
    assert "claim" not in report_for(subject, member=globex)["disputes"][0]
    assert report_for(subject, member=acme)["disputes"][0]["furnisher"] == "own"
    staff = report_for(subject)["disputes"][0]
    assert (staff["furnisher"], staff["claim"]) == ("acme", "Never borrowed from Acme.")


def test_dispute_when_record_already_has_open_one_returns_409(
    api_client, carol, dispute
):
    api_client.force_login(carol)
    response = api_client.post(
        DISPUTES, {"record_id": dispute.record_id, "claim": "Again."}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "conflict"


@pytest.mark.parametrize("role", [Role.BUREAU_ADMIN, Role.AUDITOR])
def test_dispute_when_opened_by_other_bureau_staff_returns_403(
    api_client, acme_record, role
):
    api_client.force_login(bureau_user("staff", role))
    response = api_client.post(
        DISPUTES, {"record_id": acme_record.pk, "claim": "x"}, format="json"
    )
    assert response.status_code == 403


def test_analyst_when_opening_dispute_gets_403(api_client, bob, acme_record):
    api_client.force_login(bob)
    response = api_client.post(
        DISPUTES, {"record_id": acme_record.pk, "claim": "x"}, format="json"
    )
    assert response.status_code == 403 and not Dispute.objects.exists()


def test_member_key_when_opening_dispute_gets_403(api_client, acme, acme_record):
    _, key = issue_key(acme)
    response = api_client.post(
        DISPUTES,
        {"record_id": acme_record.pk, "claim": "x"},
        format="json",
        **bearer(key),
    )
    assert response.status_code == 403


def test_dispute_when_claim_too_long_or_record_unknown_returns_400(
    api_client, carol, acme_record
):
    api_client.force_login(carol)
    long = api_client.post(
        DISPUTES, {"record_id": acme_record.pk, "claim": "x" * 2001}, format="json"
    )
    unknown = api_client.post(
        DISPUTES, {"record_id": 999999, "claim": "x"}, format="json"
    )
    assert long.status_code == 400 and "claim" in long.json()["errors"]
    assert unknown.status_code == 400 and "record_id" in unknown.json()["errors"]


# -- the furnisher's view -------------------------------------------------------


def test_furnisher_when_listing_sees_its_open_disputes_with_days_left(
    api_client, alice, dispute
):
    api_client.force_login(alice)
    response = api_client.get(DISPUTES)
    assert response.status_code == 200
    (item,) = response.json()["results"]
    assert (item["id"], item["days_left"], item["claim"]) == (
        dispute.pk,
        20,
        "Never borrowed from Acme.",
    )
    assert item["account_no"] == "ACME-1"


def test_furnisher_key_with_upload_scope_when_listing_sees_open_disputes(
    api_client, acme, dispute
):
    _, upload_key = issue_key(acme, scopes=["upload"])
    _, query_key = issue_key(acme, scopes=["query"], name="q")
    listed = api_client.get(DISPUTES, **bearer(upload_key))
    refused = api_client.get(DISPUTES, **bearer(query_key))
    assert [d["id"] for d in listed.json()["results"]] == [dispute.pk]
    assert refused.status_code == 403 and refused.json()["code"] == "scope_missing"


def test_other_member_when_listing_sees_none_of_acmes_disputes(
    api_client, charlie, dispute
):
    api_client.force_login(charlie)
    assert api_client.get(DISPUTES).json()["results"] == []


def test_auditor_when_listing_sees_all_disputes_and_read_is_audited(
    api_client, dispute
):
    api_client.force_login(bureau_user("ada", Role.AUDITOR))
    response = api_client.get(DISPUTES, {"status": "open"})
    assert [d["id"] for d in response.json()["results"]] == [dispute.pk]
    assert AuditEvent.objects.filter(action="dispute.list").exists()


def test_days_left_when_deadline_nears_counts_down(api_client, alice, dispute):
    Dispute.objects.filter(pk=dispute.pk).update(
        opened_at=timezone.now() - timedelta(days=19, hours=12),
        due_at=timezone.now() + timedelta(hours=12),
    )
    api_client.force_login(alice)
    assert api_client.get(DISPUTES).json()["results"][0]["days_left"] == 1


def test_claim_when_it_holds_numbers_and_phones_is_stored_masked(
    api_client, carol, acme_record
):
    api_client.force_login(carol)
    claim = f"Someone used ID{ID_A} and phone １３８１２３４５６７８ at Acme."
    response = api_client.post(
        DISPUTES, {"record_id": acme_record.pk, "claim": claim}, format="json"
    )
    assert response.status_code == 201, response.json()
    masked = "Someone used ID110105********002X and phone １３８****５６７８ at Acme."
    assert Dispute.objects.get().claim == masked == response.json()["claim"]


# -- answering ------------------------------------------------------------------


def answer(client, dispute, **body):
    return client.patch(f"{DISPUTES}{dispute.pk}/", body, format="json")


def test_furnisher_when_correcting_updates_record_grid_and_profile(
    api_client, alice, dispute, acme_record
):
    assert profile_of(acme_record).accounts_overdue == 2
    api_client.force_login(alice)
    response = answer(
        api_client,
        dispute,
        outcome="corrected",
        values={
            "status": "settled",
            "balance": "0",
            "amount_overdue": "0",
            "days_overdue": 0,
        },
        note="Settled on 1 March; our upload was late.",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "corrected"
    record = Record.objects.get(pk=acme_record.pk)
    assert (record.status, record.balance, record.days_overdue) == ("settled", 0, 0)
    assert record.classification == "normal"  # derived again from the days
    assert record.account_no == "ACME-1" and record.subject_id == acme_record.subject_id
    assert record.first_delinquency_on == acme_record.first_delinquency_on
    month = RecordMonth.objects.get(record=record, month=record.as_of.replace(day=1))
    assert month.status == "C"
    assert profile_of(acme_record).accounts_overdue == 1
    event = AuditEvent.objects.get(action="dispute.corrected")
    assert set(event.details["fields"]) >= {"status", "balance", "days_overdue"}
    assert "Settled" not in str(event.details)


def test_correction_when_values_invalid_returns_400_with_field_errors(
    api_client, alice, dispute, acme_record
):
    api_client.force_login(alice)
    response = answer(
        api_client,
        dispute,
        outcome="corrected",
        values={"principal": "-5", "status": "paid", "opened_on": "2024-02-30"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert {"values.principal", "values.status", "values.opened_on"} <= set(
        body["errors"]
    )
    assert Dispute.objects.get(pk=dispute.pk).status == "open"
    assert Record.objects.get(pk=acme_record.pk).row_hash == acme_record.row_hash


def test_correction_when_cross_field_rule_broken_returns_400(
    api_client, alice, dispute
):
    api_client.force_login(alice)
    response = answer(
        api_client, dispute, outcome="corrected", values={"status": "current"}
    )
    assert response.status_code == 400
    assert "values.days_overdue" in response.json()["errors"]


def test_correction_when_it_touches_the_key_returns_400(api_client, alice, dispute):
    api_client.force_login(alice)
    response = answer(
        api_client,
        dispute,
        outcome="corrected",
        values={"account_no": "OTHER", "id_number": ID_A},
    )
    assert response.status_code == 400
    assert {"values.account_no", "values.id_number"} <= set(response.json()["errors"])


def test_correction_when_moving_first_delinquency_later_returns_400_reaging(
    api_client, alice, dispute
):
    api_client.force_login(alice)
    response = answer(
        api_client,
        dispute,
        outcome="corrected",
        values={"first_delinquency_on": days_ago(40)},
    )
    assert response.status_code == 400
    (message,) = response.json()["errors"]["values.first_delinquency_on"]
    assert message.startswith("reaging")


def test_furnisher_when_confirming_closes_dispute_record_unchanged(
    api_client, alice, dispute, acme_record
):
    api_client.force_login(alice)
    response = answer(api_client, dispute, outcome="confirmed", note="Checked.")
    assert response.status_code == 200 and response.json()["status"] == "confirmed"
    assert Record.objects.get(pk=acme_record.pk).row_hash == acme_record.row_hash
    report = report_for(dispute.subject)
    assert not any(a["under_dispute"] for a in report["accounts"])
    assert report["disputes"][0]["status"] == "confirmed"
    again = answer(api_client, dispute, outcome="confirmed")
    assert again.status_code == 409


def test_confirmation_when_carrying_values_returns_400(api_client, alice, dispute):
    api_client.force_login(alice)
    response = answer(
        api_client, dispute, outcome="confirmed", values={"status": "current"}
    )
    assert response.status_code == 400


def test_other_member_when_answering_gets_404(api_client, charlie, dispute):
    api_client.force_login(charlie)
    assert answer(api_client, dispute, outcome="confirmed").status_code == 404
    assert Dispute.objects.get(pk=dispute.pk).status == "open"


def test_analyst_when_answering_gets_403(api_client, bob, dispute):
    api_client.force_login(bob)
    assert answer(api_client, dispute, outcome="confirmed").status_code == 403


def test_furnisher_key_with_upload_scope_when_answering_confirms(
    api_client, acme, dispute
):
    row, key = issue_key(acme, scopes=["upload"])
    response = api_client.patch(
        f"{DISPUTES}{dispute.pk}/",
        {"outcome": "confirmed"},
        format="json",
        **bearer(key),
    )
    assert response.status_code == 200
    assert Dispute.objects.get(pk=dispute.pk).answered_with_key == row


def test_answer_note_when_it_holds_a_phone_is_stored_masked(api_client, alice, dispute):
    api_client.force_login(alice)
    response = answer(
        api_client, dispute, outcome="confirmed", note="Borrower called 13812345678."
    )
    assert response.status_code == 200, response.json()
    assert Dispute.objects.get().answer_note == "Borrower called 138****5678."


def test_compliance_when_withdrawing_closes_dispute(api_client, carol, dispute):
    api_client.force_login(carol)
    response = answer(api_client, dispute, outcome="withdrawn")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"


def test_compliance_when_answering_for_the_furnisher_gets_403(carol, dispute):
    from bureau.core.errors import Forbidden

    with pytest.raises(Forbidden):
        dispute_answer(dispute=dispute, outcome="confirmed", actor=carol)


# -- the deadline -----------------------------------------------------------------


def test_deadline_when_passed_suppresses_record_until_answered(
    alice, dispute, acme_record
):
    before = profile_of(acme_record)
    assert (before.platforms_total, before.accounts_total) == (2, 2)

    early = disputes_suppress_overdue(now=dispute.due_at - timedelta(seconds=1))
    assert early.disputes == 0 and not Record.objects.get(pk=acme_record.pk).suppressed

    run = disputes_suppress_overdue(now=dispute.due_at + timedelta(minutes=1))
    assert (run.disputes, run.subjects) == (1, 1)
    assert Record.objects.get(pk=acme_record.pk).suppressed
    assert Dispute.objects.get(pk=dispute.pk).suppressed_at is not None
    hidden = profile_of(acme_record)
    assert (hidden.platforms_total, hidden.accounts_total) == (1, 1)
    report = report_for(dispute.subject)
    assert [a["furnisher"] for a in report["accounts"] if a["under_dispute"]] == [
        "acme"
    ]
    event = (
        AuditEvent.objects.filter(action="dispute.suppress_overdue")
        .order_by("sequence")
        .last()
    )
    assert (event.details["disputes"], event.details["subjects"]) == (1, 1)

    rerun = disputes_suppress_overdue(now=dispute.due_at + timedelta(days=1))
    assert rerun.disputes == 0  # a dispute is suppressed once

    dispute_answer(dispute=dispute, outcome="confirmed", actor=alice)
    assert not Record.objects.get(pk=acme_record.pk).suppressed
    after = profile_of(acme_record)
    assert (after.platforms_total, after.accounts_total) == (2, 2)
    lifted = AuditEvent.objects.get(action="dispute.confirmed")
    assert lifted.details["suppression_lifted"] is True


def test_deadline_when_dispute_answered_in_time_suppresses_nothing(alice, dispute):
    dispute_answer(dispute=dispute, outcome="confirmed", actor=alice)
    run = disputes_suppress_overdue(now=dispute.due_at + timedelta(days=5))
    assert run.disputes == 0 and not Record.objects.filter(suppressed=True).exists()


def test_deadline_when_suppression_clears_blacklist_alerts_watching_member(
    globex, dispute
):
    from members.principals import KeyPrincipal
    from reports.models import WebhookDelivery
    from reports.services.watches import WatchInput, watch_create
    from reports.services.webhooks import webhook_create

    key = KeyPrincipal(issue_key(globex)[0])
    watch_create(
        actor=key,
        member=globex,
        data=WatchInput("resident_id", ID_A, "张三", consent_reference="C-9"),
    )
    webhook_create(
        actor=key,
        member=globex,
        url="https://hooks.globex.example/bureau",
        events=["profile.changed"],
    )
    assert profile_of(dispute.record).blacklisted  # overdue on two platforms

    disputes_suppress_overdue(now=dispute.due_at + timedelta(minutes=1))

    (alert,) = WebhookDelivery.objects.filter(event="profile.changed")
    assert alert.payload["data"]["changes"] == ["cleared"]


def test_deadline_task_when_scheduled_runs_daily_on_maintenance_queue():
    from bureau.celery import app

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    name = "bureau.records.tasks.maintenance_suppress_overdue_disputes"
    assert name in tasks
    app.loader.import_default_modules()
    assert name in app.tasks
    assert app.amqp.router.route({}, name)["queue"].name == "maintenance"


def test_record_deleted_by_its_furnisher_takes_its_disputes_along(acme, dispute):
    batch = ingest(
        acme,
        csv_bytes(
            [
                {
                    "account_no": "ACME-1",
                    "id_type": "resident_id",
                    "id_number": ID_A,
                    "as_of": days_ago(0),
                    "action": "delete",
                }
            ]
        ),
    )
    assert batch.records_deleted == 1
    assert not Dispute.objects.filter(pk=dispute.pk).exists()


# -- statements and who looked the subject up -------------------------------------


def statements_url(subject_id: int) -> str:
    return f"/api/v1/subjects/{subject_id}/statements/"


def test_statement_of_500_characters_when_added_shows_on_reports(
    api_client, carol, acme_record, globex
):
    api_client.force_login(carol)
    text = "我" * 500
    response = api_client.post(
        statements_url(acme_record.subject_id), {"text": text}, format="json"
    )
    assert response.status_code == 201, response.json()
    (shown,) = report_for(acme_record.subject, member=globex)["statements"]
    assert shown["text"] == text and shown["added_at"]
    event = AuditEvent.objects.get(action="statement.add")
    assert event.details == {"subject": acme_record.subject_id, "length": 500}


def test_statement_when_it_holds_numbers_and_phones_keeps_them_masked(
    api_client, carol, acme_record, globex
):
    api_client.force_login(carol)
    text = f"我的身份证 {ID_A}，电话 138 1234 5678 或 +8613912345678。"
    response = api_client.post(
        statements_url(acme_record.subject_id), {"text": text}, format="json"
    )
    assert response.status_code == 201, response.json()
    masked = "我的身份证 110105********002X，电话 138 **** 5678 或 +86139****5678。"
    assert response.json()["text"] == masked
    assert SubjectStatement.objects.get().text == masked
    (shown,) = report_for(acme_record.subject, member=globex)["statements"]
    assert shown["text"] == masked


def test_statement_of_501_characters_returns_400(api_client, carol, acme_record):
    api_client.force_login(carol)
    response = api_client.post(
        statements_url(acme_record.subject_id), {"text": "x" * 501}, format="json"
    )
    assert response.status_code == 400 and "text" in response.json()["errors"]
    assert not SubjectStatement.objects.exists()


def test_statement_when_added_by_member_admin_returns_403(
    api_client, alice, acme_record
):
    api_client.force_login(alice)
    response = api_client.post(
        statements_url(acme_record.subject_id), {"text": "hi"}, format="json"
    )
    assert response.status_code == 403


def test_subject_inquiries_when_read_by_staff_name_members_and_are_audited(
    api_client, acme, globex, furnished
):
    from members.principals import KeyPrincipal
    from reports.services.query import QueryInput, query_run

    subject = Subject.objects.get()
    person = {"id_type": "resident_id", "id_number": ID_A, "purpose": "loan_approval"}
    for member, name in ((acme, "张三"), (globex, "李四")):  # Globex: wrong name
        query_run(
            actor=KeyPrincipal(issue_key(member)[0]),
            member=member,
            data=QueryInput(**person, name=name, consent_reference="C-1"),
        )
    api_client.force_login(bureau_user("ada", Role.AUDITOR))
    response = api_client.get(f"/api/v1/subjects/{subject.pk}/inquiries/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert {(r["member_name"], r["hit"]) for r in rows} == {
        ("Acme Lending", True),
        ("Globex Credit", False),
    }
    assert AuditEvent.objects.filter(
        action="subject.inquiries_view", object_id=str(subject.pk)
    ).exists()


def test_subject_inquiries_when_read_by_member_returns_403(
    api_client, alice, acme_record
):
    api_client.force_login(alice)
    url = f"/api/v1/subjects/{acme_record.subject_id}/inquiries/"
    assert api_client.get(url).status_code == 403


def test_compliance_when_opening_a_dispute_in_the_admin_goes_through_the_service(
    client, acme
):
    from bureau.audit.models import AuditEvent
    from bureau.records.models import Dispute, Record
    from tests.factories import UserFactory
    from tests.records.helpers import csv_bytes, good_row, ingest

    ingest(acme, csv_bytes([good_row()]))
    record = Record.objects.get()
    officer = UserFactory(
        username="coral", role="compliance", member=None, is_staff=True
    )
    client.force_login(officer)
    assert client.get("/admin/records/dispute/add/").status_code == 200
    response = client.post(
        "/admin/records/dispute/add/", {"record": record.pk, "claim": "Not my loan."}
    )
    assert response.status_code == 302, response.content[:500]
    dispute = Dispute.objects.get()
    assert dispute.status == "open" and dispute.opened_by == officer
    assert AuditEvent.objects.filter(
        object_type="records.dispute", object_id=str(dispute.pk)
    ).exists()
    again = client.post(
        "/admin/records/dispute/add/", {"record": record.pk, "claim": "Twice"}
    )
    assert again.status_code == 200 and Dispute.objects.count() == 1


def test_analyst_when_opening_a_dispute_in_the_admin_is_refused(client, acme, bob):
    bob.is_staff = True
    bob.save()
    client.force_login(bob)
    assert client.get("/admin/records/dispute/add/").status_code == 403
