"""`GET /api/v1/audit-events/`: filters, cursor pages, CSV, and reads that are audited.

Aude is an auditor; Alice (Acme) and Charlie (Globex) are member admins whose actions
fill the trail.
"""

import base64
import csv
import io
from datetime import timedelta, timezone
from urllib.parse import urlencode

import pytest

from bureau.audit.models import AuditEvent
from bureau.audit.services import audit_record
from tests.conftest import bearer
from tests.factories import bureau_user, issue_key
from tests.records.helpers import ID_A

pytestmark = pytest.mark.django_db
AUDIT = "/api/v1/audit-events/"


@pytest.fixture
def aude(db):
    return bureau_user("aude", "auditor")


def event(actor, action, object_type="", object_id=None) -> AuditEvent:
    return audit_record(
        actor=actor, action=action, object_type=object_type, object_id=object_id
    )


@pytest.fixture
def trail(acme, globex, alice, charlie):
    """Five known events, oldest first, after whatever set-up wrote."""
    key, _ = issue_key(acme, name="ci")
    events = [
        event(alice, "query.run", "reports.inquiry", "inq-1"),
        event(key, "query.run", "reports.inquiry", "inq-2"),
        event(charlie, "batch.create", "records.batch", "7"),
        event(alice, "report.view", "reports.inquiry", "inq-1"),
        event(alice, "queryx.other"),
    ]
    return key, events


def listed(client, **params) -> list[int]:
    response = client.get(AUDIT, params)
    assert response.status_code == 200, response.json()
    return [event["sequence"] for event in response.json()["results"]]


def seqs(*events) -> list[int]:
    return sorted((e.sequence for e in events), reverse=True)


def test_list_when_auditor_reads_returns_newest_first_with_fields(
    api_client, aude, trail
):
    api_client.force_login(aude)  # itself audited (auth.login): the newest event
    body = api_client.get(AUDIT).json()
    sequences = [event["sequence"] for event in body["results"]]
    assert sequences == sorted(sequences, reverse=True)
    assert body["results"][0]["actor_label"] == "aude"
    newest = next(e for e in body["results"] if e["actor_label"] == "alice")
    assert newest["action"] == "queryx.other"
    assert newest["actor_label"] == "alice"
    assert newest["member"] == "acme"
    fields = {"created_at", "actor_type", "object_type", "object_id", "request_id"}
    assert set(newest) >= {*fields, "ip", "details", "hash"}
    assert "count" not in body  # cursor pages: no COUNT(*) over the whole trail


def test_list_when_paged_by_cursor_walks_older_events(api_client, aude, trail):
    api_client.force_login(aude)
    first = api_client.get(AUDIT, {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = api_client.get(first["next"]).json()
    assert len(second["results"]) == 2
    assert second["results"][0]["sequence"] < first["results"][-1]["sequence"]


@pytest.mark.parametrize(
    "position", ["abc", "1e5", "\x00", "99999999999999999999", "1.5", ""]
)
def test_list_when_cursor_position_is_forged_returns_404_invalid_cursor(
    api_client, aude, trail, position
):
    api_client.force_login(aude)
    cursor = base64.b64encode(urlencode({"p": position}).encode()).decode()
    response = api_client.get(AUDIT, {"cursor": cursor})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not AuditEvent.objects.filter(action="audit.read").exists()


def test_filter_when_actor_is_a_username_returns_their_events(api_client, aude, trail):
    _, events = trail
    api_client.force_login(aude)
    assert listed(api_client, actor="charlie") == seqs(events[2])


def test_filter_when_actor_is_a_key_prefix_or_display_returns_its_events(
    api_client, aude, trail
):
    key, events = trail
    api_client.force_login(aude)
    for value in (key.prefix, f"key:{key.prefix}", f"bk_{key.prefix}_…"):
        assert listed(api_client, actor=value, action="query.run") == seqs(events[1])


def test_filter_when_member_code_given_returns_that_members_events(
    api_client, aude, trail
):
    _, events = trail
    api_client.force_login(aude)
    assert listed(api_client, member="globex", action="batch.create") == seqs(events[2])


def test_filter_when_action_exact_or_prefix_matches_accordingly(
    api_client, aude, trail
):
    _, events = trail
    api_client.force_login(aude)
    assert listed(api_client, action="query.run") == seqs(events[0], events[1])
    # "query." is a prefix: query.run matches, queryx.other does not.
    assert listed(api_client, action="query.") == seqs(events[0], events[1])
    assert listed(api_client, action="query.*") == seqs(events[0], events[1])


def test_filter_when_object_given_returns_events_on_that_object(
    api_client, aude, trail
):
    _, events = trail
    api_client.force_login(aude)
    found = listed(api_client, object_type="reports.inquiry", object_id="inq-1")
    assert found == seqs(events[0], events[3])


def test_filter_when_since_and_until_given_is_half_open(api_client, aude, trail):
    _, events = trail
    api_client.force_login(aude)
    since, until = events[1].created_at, events[3].created_at
    found = listed(api_client, since=since.isoformat(), until=until.isoformat())
    assert found == seqs(events[1], events[2])


def test_filter_when_since_is_not_a_datetime_returns_400_and_logs_no_read(
    api_client, aude, trail
):
    api_client.force_login(aude)
    response = api_client.get(AUDIT, {"since": "yesterday"})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "since" in response.json()["errors"]
    assert not AuditEvent.objects.filter(action="audit.read").exists()


@pytest.mark.parametrize("offset", ["+16:00", "-18:52", "+23:59"])
def test_filter_when_offset_is_beyond_postgresqls_range_means_the_same_instant(
    api_client, aude, trail, offset
):
    """Python takes offsets to ±23:59, PostgreSQL to ±15:59: given in UTC."""
    _, events = trail
    api_client.force_login(aude)
    sign, hours, minutes = offset[0], int(offset[1:3]), int(offset[4:])
    shift = timedelta(hours=hours, minutes=minutes) * (1 if sign == "+" else -1)
    since = events[1].created_at.astimezone(timezone(shift))
    assert since.isoformat().endswith(offset)
    found = listed(api_client, since=since.isoformat(), action="query.run")
    assert found == seqs(events[1])
    response = api_client.get(
        AUDIT, {"since": since.isoformat(), "action": "query.run", "format": "csv"}
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert [int(r["sequence"]) for r in csv.DictReader(io.StringIO(text))] == [
        events[1].sequence
    ]


def test_filter_when_instant_is_beyond_python_years_in_utc_returns_400(
    api_client, aude, trail
):
    api_client.force_login(aude)
    response = api_client.get(AUDIT, {"until": "9999-12-31T23:00:00-05:00"})
    assert response.status_code == 400
    assert response.json()["errors"]["until"] == ["Date and time out of range."]


def test_read_when_made_is_audited_with_its_filters(api_client, aude, trail):
    api_client.force_login(aude)
    before = AuditEvent.objects.order_by("-sequence").first().sequence
    first = listed(api_client, action="query.", member="acme")
    read = AuditEvent.objects.get(action="audit.read")
    assert read.actor_label == "aude"
    assert read.details == {
        "filters": {"action": "query.", "member": "acme"},
        "format": "json",
    }
    # The answer is the trail as it stood: the read itself is not in it.
    assert read.sequence > before and read.sequence not in first


def test_read_when_filter_holds_an_identity_number_records_it_redacted(
    api_client, aude, trail
):
    api_client.force_login(aude)
    assert listed(api_client, object_id=ID_A) == []
    read = AuditEvent.objects.get(action="audit.read")
    assert read.details["filters"] == {"object_id": "[redacted]"}


def test_csv_when_requested_streams_every_matching_row(api_client, aude, trail):
    _, events = trail
    api_client.force_login(aude)
    response = api_client.get(AUDIT, {"format": "csv", "actor": "alice"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    alice_seqs = [int(row["sequence"]) for row in rows]
    assert alice_seqs == sorted(alice_seqs, reverse=True)
    assert {events[0].sequence, events[3].sequence, events[4].sequence} <= set(
        alice_seqs
    )
    assert {row["actor_label"] for row in rows} == {"alice"}
    assert rows[0]["member"] == "acme"
    read = AuditEvent.objects.get(action="audit.read")
    assert read.details == {"filters": {"actor": "alice"}, "format": "csv"}


def test_format_when_unknown_returns_400(api_client, aude, trail):
    api_client.force_login(aude)
    assert api_client.get(AUDIT, {"format": "xml"}).status_code == 400


def test_list_when_bureau_admin_reads_returns_200(api_client, trail):
    api_client.force_login(bureau_user("bea", "bureau_admin"))
    assert api_client.get(AUDIT).status_code == 200


def test_list_when_key_has_every_scope_returns_403(api_client, acme, trail):
    _, key = issue_key(acme, scopes=("upload", "query", "monitor"))
    response = api_client.get(AUDIT, **bearer(key))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="audit.read").exists()


def test_list_when_compliance_reads_returns_403(api_client, trail):
    api_client.force_login(bureau_user("cora", "compliance"))
    assert api_client.get(AUDIT).status_code == 403
