"""Watches: who may watch whom, misses that reveal nothing, material-change alerts."""

import json

import pytest

from bureau.audit.models import AuditEvent
from bureau.records.models import Subject
from bureau.records.tasks import aggregate_subjects
from reports.models import Inquiry, Watch, WebhookDelivery
from reports.services.watches import material_changes, watches_check
from reports.services.webhooks import webhook_create
from tests.conftest import bearer
from tests.factories import MemberFactory, UserFactory, issue_key
from tests.records.helpers import (
    ID_A,
    ID_B,
    ID_C,
    as_of,
    csv_bytes,
    current_row,
    good_row,
    ingest,
)

pytestmark = pytest.mark.django_db
WATCHES = "/api/v1/watches/"
CONSENT = "MONITOR-2026-001"


@pytest.fixture
def furnished(acme, globex):
    """张三 (ID_A) is current at Acme only; Globex has furnished 李四 (ID_C)."""
    ingest(acme, csv_bytes([current_row(account_no="ACME-1", as_of=as_of(40))]))
    ingest(
        globex, csv_bytes([current_row(account_no="G-1", id_number=ID_C, name="李四")])
    )
    aggregate_subjects(list(Subject.objects.values_list("pk", flat=True)))
    return acme, globex


def watch(client, key, **overrides):
    body = {
        "id_type": "resident_id",
        "id_number": ID_A,
        "name": "张三",
        "consent_reference": CONSENT,
    }
    body.update(overrides)
    return client.post(WATCHES, body, format="json", **bearer(key))


def zhang() -> Subject:
    return Subject.objects.get(id_masked="110105********002X")


# -- creating, listing, deleting -------------------------------------------------------


def test_watch_when_created_with_monitor_key_returns_201_and_audits_without_inquiry(
    api_client, furnished, acme_key
):
    response = watch(api_client, acme_key[1])
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {
        "id",
        "id_type",
        "id_masked",
        "name",
        "consent_reference",
        "created_at",
    }
    assert (body["id_masked"], body["name"]) == ("110105********002X", "张三")
    created = Watch.objects.get(pk=body["id"])
    assert created.api_key == acme_key[0] and created.user is None
    assert created.last_snapshot["accounts_overdue"] == 0
    assert (
        AuditEvent.objects.filter(
            action="watch.create", object_id=str(created.pk)
        ).count()
        == 1
    )
    assert not Inquiry.objects.exists()  # a watch is not an inquiry


def test_watch_when_analyst_creates_it_records_the_user(api_client, furnished, bob):
    api_client.force_login(bob)
    response = api_client.post(
        WATCHES,
        {
            "id_type": "resident_id",
            "id_number": ID_A,
            "name": " 张三 ",
            "consent_reference": CONSENT,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Watch.objects.get().user == bob


def test_watch_when_uploader_tries_is_403(api_client, furnished, acme):
    api_client.force_login(UserFactory(username="ulla", role="uploader", member=acme))
    response = api_client.post(WATCHES, {}, format="json")
    assert response.status_code == 403
    assert api_client.get(WATCHES).status_code == 403


def test_watch_when_key_lacks_monitor_scope_is_403_scope_missing(api_client, furnished):
    _, key = issue_key(furnished[0], scopes=("query",), name="query-only")
    response = watch(api_client, key)
    assert response.status_code == 403 and response.json()["code"] == "scope_missing"


def test_watch_when_unauthenticated_is_401(api_client, furnished):
    assert api_client.get(WATCHES).status_code == 401


def test_watch_when_person_unknown_answers_404_like_a_query(
    api_client, furnished, acme_key
):
    response = watch(api_client, acme_key[1], id_number=ID_B, name="李四")
    query = api_client.post(
        "/api/v1/queries/",
        {
            "id_type": "resident_id",
            "id_number": ID_B,
            "name": "李四",
            "purpose": "post_loan_management",
            "consent_reference": CONSENT,
        },
        format="json",
        **bearer(acme_key[1]),
    )
    assert response.status_code == query.status_code == 404
    strip = lambda body: {k: v for k, v in body.items() if k != "request_id"}  # noqa: E731
    assert strip(response.json()) == strip(query.json())
    assert not Watch.objects.exists()
    assert AuditEvent.objects.filter(action="watch.not_found").count() == 1


def test_watch_when_name_does_not_match_answers_404(api_client, furnished, acme_key):
    response = watch(api_client, acme_key[1], name="王五")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert "on file" in response.json()["detail"] and not Watch.objects.exists()


def test_watch_when_consent_missing_long_or_a_number_is_400(
    api_client, furnished, acme_key
):
    for consent in ("", " ", "x" * 65, f"W-{ID_C}", "+8613712345678"):
        response = watch(api_client, acme_key[1], consent_reference=consent)
        assert response.status_code == 400, consent
        assert "consent_reference" in response.json()["errors"]
    assert not Watch.objects.exists()


def test_watch_when_id_number_invalid_is_400(api_client, furnished, acme_key):
    response = watch(api_client, acme_key[1], id_number="110105194912310021")
    assert response.status_code == 400 and "id_number" in response.json()["errors"]


def test_watch_when_member_never_contributed_is_403(api_client, furnished):
    stranger = MemberFactory(code="initech")
    _, key = issue_key(stranger)
    response = watch(api_client, key)
    assert response.status_code == 403
    assert response.json()["code"] == "contribution_required"


def test_watch_when_already_watching_is_409(api_client, furnished, acme_key):
    assert watch(api_client, acme_key[1]).status_code == 201
    response = watch(api_client, acme_key[1])
    assert response.status_code == 409 and response.json()["code"] == "conflict"


def test_watch_list_when_two_members_watch_shows_only_own(
    api_client, furnished, acme_key, charlie
):
    _, globex_key = issue_key(furnished[1])
    assert watch(api_client, globex_key).status_code == 201
    mine = watch(api_client, acme_key[1]).json()
    body = api_client.get(WATCHES, **bearer(acme_key[1])).json()
    assert [row["id"] for row in body["results"]] == [mine["id"]]
    assert "next" in body and "previous" in body


def test_watch_when_other_member_reads_or_deletes_it_is_404(
    api_client, furnished, acme_key, charlie
):
    created = watch(api_client, acme_key[1]).json()
    api_client.force_login(charlie)
    url = f"{WATCHES}{created['id']}/"
    assert api_client.get(url).status_code == 404
    assert api_client.delete(url).status_code == 404
    assert Watch.objects.get().deleted_at is None


def test_watch_when_deleted_is_soft_deleted_and_can_be_created_again(
    api_client, furnished, acme_key
):
    created = watch(api_client, acme_key[1]).json()
    url = f"{WATCHES}{created['id']}/"
    assert api_client.get(url, **bearer(acme_key[1])).status_code == 200
    assert api_client.delete(url, **bearer(acme_key[1])).status_code == 204
    assert api_client.get(url, **bearer(acme_key[1])).status_code == 404
    assert api_client.get(WATCHES, **bearer(acme_key[1])).json()["results"] == []
    assert Watch.objects.get(pk=created["id"]).deleted_at is not None
    assert AuditEvent.objects.filter(action="watch.delete").count() == 1
    assert watch(api_client, acme_key[1]).status_code == 201


# -- material-change detection ----------------------------------------------------


@pytest.fixture
def watched(api_client, furnished, acme_key):
    """Acme watches 张三 and has a webhook for profile.changed."""
    acme, _ = furnished
    assert watch(api_client, acme_key[1]).status_code == 201
    webhook_create(
        actor=acme_key[0],
        member=acme,
        url="https://hooks.acme.example/bureau",
        events=["profile.changed"],
    )
    return Watch.objects.get()


def _alerts():
    return list(WebhookDelivery.objects.filter(event="profile.changed"))


def test_watched_person_when_other_member_reports_overdue_alerts_new_overdue(
    furnished, watched
):
    _, globex = furnished
    ingest(
        globex,
        csv_bytes(
            [
                good_row(
                    account_no="GLOBEX-77", amount_overdue="999.00", days_overdue="45"
                )
            ]
        ),
    )
    aggregate_subjects([zhang().pk])

    [alert] = _alerts()
    data = alert.payload["data"]
    assert alert.payload["type"] == "profile.changed"
    assert data["watch_id"] == watched.pk
    assert data["changes"] == ["new_overdue", "new_platform"]
    assert data["subject"] == {
        "id_type": "resident_id",
        "id_masked": "110105********002X",
    }
    assert data["current"]["platforms_total"] == 2
    assert data["current"]["total_amount_overdue"] == "999.00"
    assert data["previous"]["accounts_overdue"] == 0
    watched.refresh_from_db()
    assert watched.last_snapshot == data["current"]


def test_alert_payload_when_sent_never_names_members_or_the_clear_number(
    furnished, watched
):
    _, globex = furnished
    ingest(globex, csv_bytes([good_row(account_no="GLOBEX-77")]))
    aggregate_subjects([zhang().pk])
    text = json.dumps([a.payload for a in _alerts()], ensure_ascii=False)
    assert _alerts()
    for secret in ("globex", "Globex", "GLOBEX-77", "acme", "Acme", ID_A):
        assert secret not in text


def test_alert_when_chunk_aggregated_again_is_not_repeated(furnished, watched):
    _, globex = furnished
    ingest(globex, csv_bytes([good_row(account_no="GLOBEX-77")]))
    aggregate_subjects([zhang().pk])
    aggregate_subjects([zhang().pk])
    assert watches_check(subject_ids=[zhang().pk]) == 0
    assert len(_alerts()) == 1


def test_change_when_not_material_queues_nothing(furnished, watched):
    acme, _ = furnished
    before = dict(watched.last_snapshot)
    ingest(
        acme,
        csv_bytes(
            [current_row(account_no="ACME-1", balance="5000.00", as_of=as_of(10))]
        ),
    )
    aggregate_subjects([zhang().pk])
    assert _alerts() == []
    watched.refresh_from_db()
    assert watched.last_snapshot == before


def test_change_when_watch_deleted_queues_nothing(
    api_client, furnished, watched, acme_key
):
    api_client.delete(f"{WATCHES}{watched.pk}/", **bearer(acme_key[1]))
    ingest(furnished[1], csv_bytes([good_row(account_no="GLOBEX-77")]))
    aggregate_subjects([zhang().pk])
    assert _alerts() == []


def test_change_when_member_has_no_webhook_updates_snapshot_only(
    api_client, furnished, acme_key
):
    watch(api_client, acme_key[1])
    ingest(furnished[1], csv_bytes([good_row(account_no="GLOBEX-77")]))
    aggregate_subjects([zhang().pk])
    assert _alerts() == []
    assert Watch.objects.get().last_snapshot["platforms_total"] == 2


def test_blacklisting_then_settling_when_reported_alerts_blacklisted_then_cleared(
    furnished, watched
):
    _, globex = furnished
    ingest(
        globex,
        csv_bytes(
            [
                good_row(
                    account_no="GLOBEX-77",
                    status="default",
                    days_overdue="120",
                    as_of=as_of(20),
                )
            ]
        ),
    )
    aggregate_subjects([zhang().pk])
    ingest(
        globex,
        csv_bytes(
            [
                current_row(
                    account_no="GLOBEX-77",
                    status="settled",
                    balance="0",
                    as_of=as_of(5),
                )
            ]
        ),
    )
    aggregate_subjects([zhang().pk])
    changes = [
        a.payload["data"]["changes"]
        for a in WebhookDelivery.objects.order_by("created_at")
    ]
    assert changes == [["new_overdue", "new_platform", "blacklisted"], ["cleared"]]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            {"accounts_overdue": 1, "total_amount_overdue": "10.00"},
            {"accounts_overdue": 1, "total_amount_overdue": "12.00"},
            ["new_overdue"],
        ),
        (
            {"accounts_overdue": 2, "total_amount_overdue": "10.00"},
            {"accounts_overdue": 1, "total_amount_overdue": "5.00"},
            [],
        ),
        ({"platforms_total": 1}, {"platforms_total": 2}, ["new_platform"]),
        ({"platforms_total": 2}, {"platforms_total": 1}, []),
        (
            {"blacklisted": True, "accounts_overdue": 1, "total_amount_overdue": "9"},
            {"blacklisted": False, "accounts_overdue": 1, "total_amount_overdue": "9"},
            ["cleared"],
        ),
        ({"max_days_overdue": 10}, {"max_days_overdue": 40}, []),
    ],
)
def test_material_changes_when_figures_move_names_only_material_ones(
    old, new, expected
):
    base = {
        "platforms_total": 1,
        "platforms_with_overdue": 0,
        "accounts_overdue": 0,
        "total_amount_overdue": "0.00",
        "max_days_overdue": 0,
        "blacklisted": False,
    }
    assert material_changes({**base, **old}, {**base, **new}) == expected


def test_watch_when_identity_key_rotated_but_subject_not_yet_moved_finds_it(
    api_client, furnished, acme_key, settings
):
    """Mid-rotation: the subject still carries the version-1 hash."""
    old_key = settings.BUREAU_IDENTITY_KEY
    settings.BUREAU_IDENTITY_KEY = "identity-key-two-" + "b" * 32
    settings.BUREAU_IDENTITY_KEY_VERSION = 2
    settings.BUREAU_IDENTITY_KEYS = {1: old_key, 2: settings.BUREAU_IDENTITY_KEY}
    assert zhang().key_version == 1
    assert watch(api_client, acme_key[1]).status_code == 201
