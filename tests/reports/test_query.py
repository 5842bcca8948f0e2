"""Purpose-bound queries: checks, misses that reveal nothing, anonymisation, counts."""

import json

import pytest
from django.utils import timezone

from bureau.audit.models import AuditEvent
from bureau.records.models import Batch, Subject
from bureau.records.services.aggregate import profiles_refresh
from members.models import Role
from reports.models import Inquiry
from tests.conftest import bearer
from tests.factories import MemberFactory, UserFactory, issue_key
from tests.records.helpers import ID_A, ID_B, csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db
QUERIES = "/api/v1/queries/"


@pytest.fixture
def furnished(acme, globex):
    """Acme and Globex both report 张三 (ID_A); both have contributed recently.
    Their batches' aggregation has stored his profile."""
    ingest(acme, csv_bytes([good_row(account_no="ACME-1")]))
    ingest(
        globex,
        csv_bytes(
            [
                good_row(
                    account_no="GLOBEX-77",
                    days_overdue="100",
                    status="default",
                    amount_overdue="999.00",
                )
            ]
        ),
    )
    aggregated()
    return acme, globex


def aggregated() -> None:
    """What the aggregation an ingest queues on commit does (it does not run
    inside a test's transaction): store the profiles. A query only reads them."""
    profiles_refresh(subject_ids=Subject.objects.values_list("pk", flat=True))


def ask(client, key, **overrides):
    body = {
        "id_type": "resident_id",
        "id_number": ID_A,
        "name": "张三",
        "purpose": "loan_approval",
        "consent_reference": "CONSENT-2026-001",
    }
    body.update(overrides)
    return client.post(QUERIES, body, format="json", **bearer(key))


def test_known_person_when_queried_returns_profile_and_logs_inquiry(
    api_client, furnished, acme_key
):
    response = ask(api_client, acme_key[1])
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["subject"] == {
        "id_type": "resident_id",
        "id_masked": "110105********002X",
        "name": "张三",
    }
    profile = body["profile"]
    assert (profile["platforms_total"], profile["platforms_with_overdue"]) == (2, 2)
    assert (
        profile["total_amount_overdue"] == "2199.50" and profile["blacklisted"] is True
    )
    assert set(profile["blacklist_reasons"]) == {
        "status",
        "days_overdue",
        "platforms_overdue",
    }
    inquiry = Inquiry.objects.get(pk=body["inquiry_id"])
    assert (
        inquiry.hit
        and inquiry.member.code == "acme"
        and inquiry.purpose == "loan_approval"
    )
    assert (
        AuditEvent.objects.filter(action="query.run", object_id=str(inquiry.pk)).count()
        == 1
    )


def test_own_accounts_when_reported_are_full_and_others_anonymised(
    api_client, furnished, acme_key
):
    body = ask(api_client, acme_key[1]).json()
    own = [a for a in body["accounts"] if a["own"]]
    others = [a for a in body["accounts"] if not a["own"]]
    assert [a["account_no"] for a in own] == ["ACME-1"]
    assert len(others) == 1 and others[0]["furnisher"] == "platform A"
    assert "account_no" not in others[0]
    text = json.dumps(body, ensure_ascii=False)
    for secret in ("globex", "Globex", "GLOBEX-77"):
        assert secret not in text
    assert all(len(a["history"]) == 24 for a in body["accounts"])


def test_history_grid_when_reported_starts_with_current_month(
    api_client, acme, acme_key
):
    today = timezone.localdate().isoformat()
    ingest(
        acme,
        csv_bytes([good_row(as_of=today, days_overdue="45", payment_history="21N")]),
    )
    account = ask(api_client, acme_key[1]).json()["accounts"][0]
    assert account["history"].startswith("21N")


def test_unknown_number_when_queried_returns_404_and_logs_miss(
    api_client, furnished, acme_key
):
    response = ask(api_client, acme_key[1], id_number=ID_B, name="李四")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    miss = Inquiry.objects.get()
    assert not miss.hit and miss.subject is None and miss.report is None


def test_name_mismatch_when_queried_answers_exactly_like_unknown_number(
    api_client, furnished, acme_key
):
    unknown = ask(api_client, acme_key[1], id_number=ID_B, name="李四").json()
    mismatch = ask(api_client, acme_key[1], name="王五").json()
    for body in (unknown, mismatch):
        body.pop("request_id")
    assert mismatch == unknown
    assert Inquiry.objects.filter(hit=False).count() == 2


def test_name_when_given_in_fullwidth_or_case_matches(api_client, acme, acme_key):
    ingest(acme, csv_bytes([good_row(name="Li Si")]))
    assert ask(api_client, acme_key[1], name="  ＬＩ  si ").status_code == 200


def test_bad_purpose_when_queried_returns_400(api_client, furnished, acme_key):
    response = ask(api_client, acme_key[1], purpose="curiosity")
    assert response.status_code == 400 and "purpose" in response.json()["errors"]
    assert not Inquiry.objects.exists()


def test_missing_consent_when_queried_returns_400(api_client, furnished, acme_key):
    response = ask(api_client, acme_key[1], consent_reference="")
    assert (
        response.status_code == 400 and "consent_reference" in response.json()["errors"]
    )


@pytest.mark.parametrize(
    "consent", [f"CONSENT-{ID_B}", "13912345678", "+86 139 1234 5678", ID_A]
)
def test_consent_reference_when_it_holds_an_identity_number_is_400_and_no_inquiry(
    api_client, furnished, acme_key, consent
):
    response = ask(api_client, acme_key[1], consent_reference=consent)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "consent_reference": ["Must not contain identity numbers or phones."]
    }
    assert not Inquiry.objects.exists()


def test_consent_reference_when_a_long_number_but_no_identity_is_accepted(
    api_client, furnished, acme_key
):
    response = ask(api_client, acme_key[1], consent_reference="C-202401010001234567")
    assert response.status_code == 200
    assert Inquiry.objects.get().consent_reference == "C-202401010001234567"


def test_invalid_id_when_queried_returns_400_without_echoing_it(
    api_client, furnished, acme_key
):
    response = ask(api_client, acme_key[1], id_number="110105194912310021")
    assert response.status_code == 400 and "id_number" in response.json()["errors"]
    assert "110105194912310021" not in response.content.decode()


def test_self_inquiry_when_not_compliance_returns_400(api_client, furnished, acme_key):
    response = ask(
        api_client, acme_key[1], purpose="self_inquiry", consent_reference=""
    )
    assert response.status_code == 400


def test_compliance_self_inquiry_without_consent_is_allowed(api_client, furnished):
    officer = UserFactory(username="carol", role=Role.COMPLIANCE, member=None)
    api_client.force_login(officer)
    body = {
        "id_type": "resident_id",
        "id_number": ID_A,
        "name": "张三",
        "purpose": "self_inquiry",
    }
    response = api_client.post(QUERIES, body, format="json")
    assert response.status_code == 200
    # bureau staff see furnishers by code
    assert {a["furnisher"] for a in response.json()["accounts"]} == {"acme", "globex"}


def test_member_without_recent_batch_when_querying_gets_403_contribution_required(
    api_client, furnished
):
    newcomer = MemberFactory(code="newco")
    _, key = issue_key(newcomer)
    response = ask(api_client, key)
    assert (
        response.status_code == 403
        and response.json()["code"] == "contribution_required"
    )


def test_member_whose_last_batch_is_old_when_querying_gets_403(
    api_client, furnished, acme_key, settings
):
    Batch.objects.filter(member__code="acme").update(
        finished_at=timezone.now() - timezone.timedelta(days=60)
    )
    response = ask(api_client, acme_key[1])
    assert (
        response.status_code == 403
        and response.json()["code"] == "contribution_required"
    )


def test_queries_over_rate_limit_return_429_with_retry_after(
    api_client, furnished, acme_key, settings, fresh_rate_window
):
    settings.BUREAU_QUERY_RATE_PER_KEY = "3/minute"
    statuses = [ask(api_client, acme_key[1]).status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429
    limited = ask(api_client, acme_key[1])
    assert (
        limited.json()["code"] == "rate_limited"
        and 1 <= int(limited["Retry-After"]) <= 60
    )


def test_user_rate_limit_when_exceeded_returns_429(
    api_client, furnished, bob, settings, fresh_rate_window
):
    settings.BUREAU_QUERY_RATE_PER_USER = "1/minute"
    api_client.force_login(bob)
    body = {
        "id_type": "resident_id",
        "id_number": ID_A,
        "name": "张三",
        "purpose": "loan_approval",
        "consent_reference": "c-1",
    }
    assert api_client.post(QUERIES, body, format="json").status_code == 200
    assert api_client.post(QUERIES, body, format="json").status_code == 429


def test_key_without_query_scope_when_querying_gets_403(api_client, furnished, acme):
    _, key = issue_key(acme, scopes=["upload"])
    assert ask(api_client, key).json()["code"] == "scope_missing"


def test_inquiry_counts_when_reported_cover_1_3_6_months_excluding_this_one(
    api_client, furnished, acme_key, globex
):
    ask(api_client, acme_key[1])  # creates the subject's first inquiry (now)
    first = Inquiry.objects.get()
    now = timezone.now()
    for days, member in (
        (20, globex),
        (60, globex),
        (150, first.member),
        (200, globex),
    ):
        Inquiry.objects.create(
            member=member,
            subject=first.subject,
            id_type="resident_id",
            id_hash=first.id_hash,
            id_masked=first.id_masked,
            name_hash="x",
            purpose="loan_approval",
            consent_reference="c",
            hit=True,
            created_at=now - timezone.timedelta(days=days),
        )
    counts = ask(api_client, acme_key[1]).json()["inquiries"]
    assert counts == {
        "last_1m": {"count": 2, "members": 2},  # now (acme) + 20 days (globex)
        "last_3m": {"count": 3, "members": 2},
        "last_6m": {"count": 4, "members": 2},
    }


def test_report_when_read_by_asking_member_returns_snapshot(
    api_client, furnished, acme_key
):
    inquiry_id = ask(api_client, acme_key[1]).json()["inquiry_id"]
    response = api_client.get(f"{QUERIES}{inquiry_id}/report/", **bearer(acme_key[1]))
    assert response.status_code == 200 and response.json()["inquiry_id"] == inquiry_id
    assert AuditEvent.objects.filter(
        action="report.view", object_id=inquiry_id
    ).exists()


def test_report_when_read_by_another_member_returns_404(
    api_client, furnished, acme_key, globex
):
    inquiry_id = ask(api_client, acme_key[1]).json()["inquiry_id"]
    _, globex_key = issue_key(globex)
    assert (
        api_client.get(
            f"{QUERIES}{inquiry_id}/report/", **bearer(globex_key)
        ).status_code
        == 404
    )


def test_report_when_read_by_auditor_is_allowed(api_client, furnished, acme_key):
    inquiry_id = ask(api_client, acme_key[1]).json()["inquiry_id"]
    api_client.force_login(
        UserFactory(username="audrey", role=Role.AUDITOR, member=None)
    )
    assert api_client.get(f"{QUERIES}{inquiry_id}/report/").status_code == 200


def test_query_when_answered_uses_sql_bounded_and_independent_of_accounts(
    api_client, furnished, acme_key, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ask(api_client, acme_key[1])
    with CaptureQueriesContext(connection) as two_accounts:
        assert ask(api_client, acme_key[1]).status_code == 200
    for i in range(5):
        ingest(
            MemberFactory(code=f"extra{i}"), csv_bytes([good_row(account_no=f"X{i}")])
        )
    ask(api_client, acme_key[1])
    with django_assert_max_num_queries(2), CaptureQueriesContext(connection) as seven:
        body = ask(api_client, acme_key[1]).json()
    assert len(body["accounts"]) == 7
    assert len(seven.captured_queries) == len(two_accounts.captured_queries)


def test_query_when_hit_or_miss_takes_two_statements(
    api_client, furnished, acme_key, django_assert_num_queries
):
    """The key and the give-to-get answer come from Redis; then one statement reads
    the subject and its report, one writes the inquiry and its audit event."""
    ask(api_client, acme_key[1])  # fills the key and contribution caches
    with django_assert_num_queries(2):
        assert ask(api_client, acme_key[1]).status_code == 200
    with django_assert_num_queries(2):  # a name that does not match
        assert ask(api_client, acme_key[1], name="李四").status_code == 404
    with django_assert_num_queries(2):  # an unknown number
        assert ask(api_client, acme_key[1], id_number=ID_B).status_code == 404
    assert Inquiry.objects.filter(hit=False).count() == 2
    assert AuditEvent.objects.filter(action="query.run").count() == 4


def test_query_when_caches_are_warm_takes_one_redis_round_trip(
    api_client, furnished, acme_key, redis_commands
):
    """One for the rate counter and the give-to-get answer; the key comes from
    this process's copy (members/keycache.py)."""
    ask(api_client, acme_key[1])
    redis_commands.clear()
    assert ask(api_client, acme_key[1]).status_code == 200
    assert redis_commands == ["EVALSHA"]


def test_name_when_sql_and_python_normalise_differently_is_still_a_hit(
    api_client, acme, acme_key, django_assert_num_queries
):
    """PostgreSQL's lower() keeps ß where Python's casefold() gives ss: the read's
    name filter says no, Python says yes, and a second statement reads the
    report. Python's comparison decides, as it always did."""
    ingest(acme, csv_bytes([good_row(name="Anna Straße")]))
    aggregated()
    ask(api_client, acme_key[1], name="ANNA STRASSE")  # warms the caches
    with django_assert_num_queries(3):
        response = ask(api_client, acme_key[1], name="anna  strasse")
    assert response.status_code == 200
    assert response.json()["subject"]["name"] == "Anna Straße"
    assert len(response.json()["accounts"]) == 1


def test_inquiries_list_when_read_shows_own_member_only(
    api_client, furnished, acme_key, globex
):
    ask(api_client, acme_key[1])
    _, globex_key = issue_key(globex)
    ask(api_client, globex_key)
    listed = api_client.get("/api/v1/inquiries/", **bearer(acme_key[1])).json()
    assert listed["count"] == 1 and listed["results"][0]["member"] == "acme"


@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_report_html_and_pdf_when_read_never_name_other_members(
    api_client, furnished, acme_key, fmt
):
    import shutil
    import subprocess

    inquiry_id = ask(api_client, acme_key[1]).json()["inquiry_id"]
    response = api_client.get(
        f"{QUERIES}{inquiry_id}/report/?format={fmt}", **bearer(acme_key[1])
    )
    assert response.status_code == 200
    if fmt == "pdf":
        assert response["Content-Type"] == "application/pdf"
        if not shutil.which("pdftotext"):
            pytest.skip("pdftotext (poppler-utils) is not installed")
        text = subprocess.run(
            ["pdftotext", "-", "-"],
            input=response.content,
            capture_output=True,
            check=True,
        ).stdout.decode()
    else:
        text = response.content.decode()
    assert "110105********002X" in text and "2199.50" in text
    for secret in ("globex", "Globex", "GLOBEX-77"):
        assert secret not in text
