"""Misuse detection on synthetic inquiry histories, the command, and the alerts API.

The clock is fixed: at 10:30 the job looks at the hour 09:00-10:00 (UTC).
"""

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from bureau.audit.misuse import misuse_detect
from bureau.audit.models import Alert, AuditEvent
from bureau.records.models import Batch, Subject
from members.models import Role
from reports.models import Inquiry
from tests.conftest import bearer
from tests.factories import bureau_user

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
HOUR_END = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
HOUR_START = HOUR_END - timedelta(hours=1)
ALERTS = "/api/v1/alerts/"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


_known: dict[str, Subject] = {}


@pytest.fixture(autouse=True)
def _known_person(db):
    """Hits must name a subject; every hit here names this one."""
    _known["subject"] = Subject.objects.create(
        id_type="resident_id",
        id_hash=_hash("known"),
        id_masked="110105********002X",
        name="张三",
        name_as_of=HOUR_END.date(),
    )
    yield
    _known.clear()


def _inquiry(member, at, **fields) -> Inquiry:
    n = fields.pop("n", 0)
    values = {
        "id_type": "resident_id",
        "id_hash": _hash(f"person-{n}"),
        "id_masked": f"{110000 + n:06d}********002X",  # one number per mask
        "name_hash": _hash(f"name-{n}"),
        "purpose": "loan_approval",
        "hit": True,
    }
    values.update(fields)
    subject = _known["subject"] if values["hit"] else None
    return Inquiry(member=member, subject=subject, created_at=at, **values)


def make_inquiries(member, count, *, start, every, **fields) -> None:
    """`count` inquiries from `start`, one each `every`, distinct people."""
    Inquiry.objects.bulk_create(
        [
            _inquiry(member, start + i * every, **{"n": i, **fields})
            for i in range(count)
        ]
    )


def last_hour(member, count, **fields) -> None:
    make_inquiries(
        member, count, start=HOUR_START, every=timedelta(minutes=50) / count, **fields
    )


def baseline(member, *, per_hour, hours, **fields) -> None:
    """`per_hour` inquiries in each of `hours` active hours (one a day) before."""
    rows = []
    for day in range(1, hours + 1):
        at = HOUR_START - timedelta(days=day)
        rows += [
            _inquiry(member, at + timedelta(minutes=m), n=day * 1000 + m, **fields)
            for m in range(per_hour)
        ]
    Inquiry.objects.bulk_create(rows)


def month_of_queries(member, count) -> None:
    make_inquiries(
        member, count, start=HOUR_END - timedelta(days=25), every=timedelta(hours=3)
    )


def furnish(member, rows_accepted, *, days_ago=3, **fields) -> Batch:
    return Batch.objects.create(
        member=member,
        file="batches/test.csv",
        size_bytes=1,
        sha256=_hash(f"{member.code}-{rows_accepted}-{days_ago}-{fields}"),
        format="csv",
        status=fields.pop("status", Batch.Status.COMPLETED),
        rows_accepted=rows_accepted,
        finished_at=HOUR_END - timedelta(days=days_ago),
        **fields,
    )


def detect(rule=None) -> list[Alert]:
    alerts = misuse_detect(now=NOW)
    return [a for a in alerts if rule is None or a.rule == rule]


# --- (a) volume spike --------------------------------------------------------------


def test_volume_spike_when_hour_exceeds_five_medians_raises_alert(acme):
    furnish(acme, 10_000)  # a contributor: no imbalance
    baseline(acme, per_hour=10, hours=20)
    last_hour(acme, 60)
    (alert,) = detect()
    assert (alert.rule, alert.member, alert.api_key) == ("volume_spike", acme, None)
    assert (alert.window_start, alert.window_end) == (HOUR_START, HOUR_END)
    assert alert.evidence["queries_last_hour"] == 60
    assert alert.evidence["median_hourly_queries"] == 10
    assert alert.evidence["baseline_active_hours"] == 20
    assert alert.severity == "low"


def test_volume_spike_when_below_factor_or_minimum_raises_nothing(acme, globex):
    furnish(acme, 10_000)
    baseline(acme, per_hour=20, hours=20)
    last_hour(acme, 90)  # > 50 but < 5 × 20
    last_hour(globex, 45)  # no history, but not above the 50 floor
    assert detect() == []


# --- (b) enumeration ---------------------------------------------------------------


def test_enumeration_when_most_queries_miss_raises_medium_alert(acme):
    last_hour(acme, 10)
    make_inquiries(
        acme,
        30,
        start=HOUR_START + timedelta(minutes=5),
        every=timedelta(seconds=30),
        hit=False,
    )
    (alert,) = detect("enumeration")
    assert alert.evidence["signals"] == ["miss_ratio"]
    assert (alert.evidence["queries"], alert.evidence["misses"]) == (40, 30)
    assert alert.evidence["miss_ratio"] == 0.75
    assert alert.severity == "medium"


def test_enumeration_when_misses_below_ratio_or_volume_raises_nothing(acme, globex):
    last_hour(acme, 25)
    make_inquiries(acme, 15, start=HOUR_START, every=timedelta(minutes=1), hit=False)
    last_hour(globex, 29, hit=False)  # all miss, but fewer than 30 queries
    assert detect() == []


def _sequence(member, seqs, *, head="110105", check="X"):
    Inquiry.objects.bulk_create(
        [
            _inquiry(
                member,
                HOUR_START + timedelta(minutes=i),
                n=seq,
                id_masked=f"{head}********{seq:03d}{check}",
            )
            for i, seq in enumerate(seqs)
        ]
    )


@pytest.mark.parametrize("step", [1, 2])
def test_enumeration_when_sequence_codes_run_raises_high_alert(acme, step):
    _sequence(acme, range(1, 1 + 12 * step, step))
    (alert,) = detect("enumeration")
    assert alert.evidence["signals"] == ["sequential_numbers"]
    assert alert.evidence["longest_sequential_run"] == 12
    assert alert.severity == "high"


def test_enumeration_when_sequence_short_or_scattered_raises_nothing(acme, globex):
    _sequence(acme, range(1, 10))  # 9 in a row
    _sequence(globex, range(0, 600, 50))  # 12 numbers, far apart
    _sequence(globex, range(1, 10), head="310101")  # another area code
    assert detect() == []


def test_enumeration_when_many_numbers_share_one_mask_raises_alert(acme):
    last_hour(acme, 10, id_masked="110105********123X")
    (alert,) = detect("enumeration")
    assert alert.evidence["signals"] == ["sequential_numbers"]
    assert alert.evidence["numbers_behind_one_mask"] == 10


def test_enumeration_when_one_number_tried_under_three_names_raises_alert(acme):
    number = _hash("target")
    times = [HOUR_END - timedelta(hours=20), HOUR_END - timedelta(hours=3), HOUR_START]
    Inquiry.objects.bulk_create(
        [
            _inquiry(acme, at, id_hash=number, name_hash=_hash(f"guess-{i}"))
            for i, at in enumerate(times)
        ]
    )
    (alert,) = detect("enumeration")
    assert alert.evidence["signals"] == ["names_per_number"]
    assert alert.evidence["max_names_per_number"] == 3
    assert alert.evidence["id_hashes"] == [number]
    assert alert.severity == "high"


def test_enumeration_when_two_names_or_no_new_name_raises_nothing(acme, globex):
    a, b, x, y, z = (_hash(text) for text in "abxyz")
    hour = timedelta(hours=1)
    Inquiry.objects.bulk_create(
        [
            # Acme: two names only.
            _inquiry(acme, HOUR_START, id_hash=a, name_hash=x),
            _inquiry(acme, HOUR_START, id_hash=a, name_hash=y),
            # Globex: three names, all tried before the hour (already reported).
            *[
                _inquiry(globex, HOUR_START - hours, id_hash=b, name_hash=name)
                for hours, name in [(hour * 5, x), (hour * 4, y), (hour * 3, z)]
            ],
            # …and one of them again within the hour: nothing new.
            _inquiry(globex, HOUR_START, id_hash=b, name_hash=z),
        ]
    )
    assert detect() == []


# --- (c) query-to-contribution imbalance -------------------------------------------


def test_imbalance_when_queries_exceed_rows_raises_alert(acme):
    month_of_queries(acme, 150)
    furnish(acme, 60)
    furnish(acme, 40, days_ago=10, status=Batch.Status.COMPLETED_WITH_ERRORS)
    furnish(acme, 5000, validate_only=True)  # checks nothing in: not a contribution
    furnish(acme, 5000, days_ago=40)  # outside the 30 days
    (alert,) = detect()
    assert alert.rule == "contribution_imbalance"
    assert (alert.window_start, alert.window_end) == (
        HOUR_END - timedelta(days=30),
        HOUR_END,
    )
    assert alert.evidence["queries"] == 150
    assert (alert.evidence["rows_accepted"], alert.evidence["batches"]) == (100, 2)
    assert alert.evidence["queries_per_row"] == 1.5
    assert alert.severity == "medium"


def test_imbalance_when_contributing_enough_or_few_queries_raises_nothing(acme, globex):
    month_of_queries(acme, 150)
    furnish(acme, 150)
    month_of_queries(globex, 99)  # never furnished, but under the 100-query floor
    assert detect() == []


# --- (d) purpose drift -------------------------------------------------------------


def test_purpose_drift_when_key_changes_purposes_raises_alert(acme, acme_key):
    key = acme_key[0]
    make_inquiries(
        acme,
        40,
        start=HOUR_END - timedelta(days=20),
        every=timedelta(hours=6),
        api_key=key,
    )
    make_inquiries(
        acme,
        25,
        start=HOUR_END - timedelta(hours=20),
        every=timedelta(minutes=30),
        api_key=key,
        purpose="post_loan_management",
    )
    (alert,) = detect()
    assert (alert.rule, alert.member, alert.api_key) == ("purpose_drift", acme, key)
    assert alert.window_start == HOUR_END - timedelta(days=1)
    assert alert.evidence["total_variation_distance"] == 1.0
    assert alert.evidence["purposes_last_24h"] == {"post_loan_management": 25}
    assert alert.evidence["purposes_baseline"] == {"loan_approval": 40}
    assert alert.severity == "high"


def test_purpose_drift_when_same_mix_or_too_few_queries_raises_nothing(acme, acme_key):
    key = acme_key[0]
    start = HOUR_END - timedelta(days=20)
    make_inquiries(acme, 40, start=start, every=timedelta(hours=6), api_key=key)
    make_inquiries(
        acme,
        25,
        start=HOUR_END - timedelta(hours=20),
        every=timedelta(minutes=30),
        api_key=key,
    )
    make_inquiries(
        acme,
        19,  # a new purpose, but under the 20-query floor
        start=HOUR_END - timedelta(hours=5),
        every=timedelta(minutes=10),
        api_key=key,
        purpose="guarantee_check",
    )
    assert detect() == []


# --- idempotence, audit, privacy ---------------------------------------------------


def test_detect_when_run_again_raises_nothing_twice(acme):
    last_hour(acme, 40, hit=False)  # enumeration: all miss
    month_of_queries(acme, 150)
    assert {a.rule for a in detect()} == {"enumeration", "contribution_imbalance"}
    assert misuse_detect(now=NOW) == []
    assert misuse_detect(now=NOW + timedelta(minutes=20)) == []  # same hour
    # An hour later the 30-day imbalance window overlaps the one already raised.
    assert misuse_detect(now=NOW + timedelta(hours=1)) == []
    assert Alert.objects.count() == 2


def test_detect_when_alert_raised_records_it_in_audit_trail(acme):
    last_hour(acme, 40, hit=False)
    (alert,) = detect()
    event = AuditEvent.objects.get(action="alert.raise")
    assert (event.object_id, event.member_id) == (str(alert.pk), acme.pk)
    assert event.details["rule"] == "enumeration"
    assert event.details["evidence"] == alert.evidence


def test_evidence_when_raised_holds_counts_and_hashes_only(acme):
    _sequence(acme, range(1, 13))
    (alert,) = detect()
    text = json.dumps(alert.evidence)
    assert "110105" not in text and "***" not in text


# --- the command and the task ------------------------------------------------------


def _command(*args) -> list[str]:
    out = io.StringIO()
    call_command("detect_misuse", *args, stdout=out)
    return out.getvalue().splitlines()


def test_command_when_dry_run_prints_findings_and_saves_nothing(acme, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    last_hour(acme, 40, hit=False)
    lines = _command("--dry-run")
    assert lines[0].startswith("enumeration severity=medium member=acme window=")
    assert lines[-2:] == ["would raise 1 alerts", "1"]
    assert not Alert.objects.exists()


def test_command_when_run_raises_and_prints_count_last(acme, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    last_hour(acme, 40, hit=False)
    assert _command()[-1] == "1"
    assert _command()[-1] == "0"
    assert Alert.objects.count() == 1


def test_task_when_named_is_routed_to_maintenance_and_scheduled_hourly(settings):
    from bureau.celery import app

    route = app.amqp.router.route({}, "bureau.audit.tasks.maintenance_detect_misuse")
    assert route["queue"].name == "maintenance"
    entry = settings.CELERY_BEAT_SCHEDULE["detect-misuse-hourly"]
    assert entry["task"] == "bureau.audit.tasks.maintenance_detect_misuse"
    assert entry["schedule"].minute == {5}


# --- the API -----------------------------------------------------------------------


@pytest.fixture
def alert(acme):
    last_hour(acme, 40, hit=False)
    return detect()[0]


@pytest.fixture
def carol(db):
    """Carol works in the bureau's compliance team."""
    return bureau_user("carol", Role.COMPLIANCE)


@pytest.fixture
def dave(db):
    """Dave is the bureau's auditor: he reads everything, changes nothing."""
    return bureau_user("dave", Role.AUDITOR)


def test_alerts_when_analyst_lists_are_forbidden(api_client, bob, alert):
    api_client.force_login(bob)
    assert api_client.get(ALERTS).status_code == 403


def test_alerts_when_member_key_lists_are_forbidden(api_client, acme_key, alert):
    assert api_client.get(ALERTS, **bearer(acme_key[1])).status_code == 403


@pytest.mark.parametrize("role", [Role.COMPLIANCE, Role.BUREAU_ADMIN, Role.AUDITOR])
def test_alerts_when_bureau_staff_lists_returns_them_and_audits(
    api_client, alert, role
):
    api_client.force_login(bureau_user("staff", role))
    response = api_client.get(ALERTS, {"status": "open"})
    assert response.status_code == 200, response.json()
    (row,) = response.json()["results"]
    assert (row["id"], row["rule"], row["member"]) == (alert.pk, "enumeration", "acme")
    assert row["evidence"]["misses"] == 40
    read = AuditEvent.objects.get(action="alert.read")
    assert read.details == {"filters": {"status": "open"}}


@pytest.mark.parametrize(
    ("params", "found"),
    [
        ({"rule": "enumeration"}, 1),
        ({"rule": "volume_spike"}, 0),
        ({"status": "dismissed"}, 0),
        ({"member": "acme"}, 1),
        ({"member": "globex"}, 0),
    ],
)
def test_alerts_when_filtered_returns_matching(api_client, carol, alert, params, found):
    api_client.force_login(carol)
    response = api_client.get(ALERTS, params)
    assert response.status_code == 200
    assert response.json()["count"] == found


def test_alert_when_compliance_acknowledges_updates_and_audits(
    api_client, carol, alert
):
    api_client.force_login(carol)
    response = api_client.patch(
        f"{ALERTS}{alert.pk}/",
        {"status": "acknowledged", "note": "Called Acme; load test."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["handled_by"]) == ("acknowledged", "carol")
    alert.refresh_from_db()
    assert alert.note == "Called Acme; load test." and alert.handled_at is not None
    event = AuditEvent.objects.get(action="alert.update")
    assert (event.actor_user_id, event.object_id) == (carol.pk, str(alert.pk))
    assert event.details["status"] == "acknowledged"


@pytest.mark.parametrize("who", ["bob", "dave"])
def test_alert_when_analyst_or_auditor_patches_is_forbidden(
    api_client, request, alert, who
):
    api_client.force_login(request.getfixturevalue(who))
    response = api_client.patch(
        f"{ALERTS}{alert.pk}/", {"status": "dismissed"}, format="json"
    )
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == "open"
    assert not AuditEvent.objects.filter(action="alert.update").exists()


def test_alert_when_dismissed_cannot_be_acknowledged(api_client, carol, alert):
    api_client.force_login(carol)
    url = f"{ALERTS}{alert.pk}/"
    response = api_client.patch(url, {"status": "dismissed"}, format="json")
    assert response.status_code == 200
    response = api_client.patch(url, {"status": "acknowledged"}, format="json")
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("note", "kept"),
    [
        ("borrower 11010519491231002X", "borrower 110105********002X"),
        ("call 13812345678", "call 138****5678"),
        ("0" * 1000, "000000" + "*" * 990 + "0000"),  # schema-valid: accepted
    ],
)
def test_alert_when_note_holds_identity_number_keeps_it_masked(
    api_client, carol, alert, note, kept
):
    api_client.force_login(carol)
    response = api_client.patch(
        f"{ALERTS}{alert.pk}/", {"status": "dismissed", "note": note}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["note"] == kept
    alert.refresh_from_db()
    assert (alert.status, alert.note) == ("dismissed", kept)
    event = AuditEvent.objects.get(action="alert.update")
    assert event.details["note"] == kept


def test_alert_when_status_invalid_is_refused(api_client, carol, alert):
    api_client.force_login(carol)
    response = api_client.patch(
        f"{ALERTS}{alert.pk}/", {"status": "open"}, format="json"
    )
    assert response.status_code == 400


def test_alert_when_note_is_a_json_number_is_refused(api_client, carol, alert):
    api_client.force_login(carol)
    response = api_client.patch(
        f"{ALERTS}{alert.pk}/", {"status": "dismissed", "note": 0}, format="json"
    )
    assert response.status_code == 400
    assert "note" in response.json()["errors"]
    alert.refresh_from_db()
    assert alert.status == "open"
