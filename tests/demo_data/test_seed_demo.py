"""`seed_demo` makes a usable demo, with a history worth looking at, and can run
again. The demo is seeded once for the module (inside a transaction rolled back
at its end): seeding takes a while, and every test here reads the same demo."""

import io
import itertools
import json
import os
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.test import override_settings
from django.utils import timezone

from bureau.audit.models import Alert, AuditEvent
from bureau.records.history import month_start
from bureau.records.models import (
    Batch,
    BatchError,
    Dispute,
    Profile,
    Record,
    RecordMonth,
    SubjectStatement,
)
from members.keys import parse_key
from members.models import ApiKey, Member, User
from members.principals import KeyPrincipal
from reports.models import Inquiry, Screening, Watch, Webhook
from reports.services.query import QueryInput, query_run
from web.selectors_dashboards import dashboard

PASSWORD = "demo-pass-for-tests-42"


def seed() -> dict:
    out = io.StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """(summary of the first run, summary of the second, counts after the first)."""
    os.environ["BUREAU_DEMO_PASSWORD"] = PASSWORD
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=fast):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            first = seed()
            counts = {
                "records": Record.objects.count(),
                "batches": Batch.objects.count(),
                "inquiries": Inquiry.objects.count(),
                "disputes": Dispute.objects.count(),
                "last_event": AuditEvent.objects.aggregate(Max("sequence"))[
                    "sequence__max"
                ],
            }
            second = seed()
            yield first, second, counts
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            del os.environ["BUREAU_DEMO_PASSWORD"]


pytestmark = pytest.mark.django_db


def test_seed_demo_when_run_twice_is_idempotent_and_prints_working_keys(demo):
    first, second, counts = demo
    assert first["history"]["seeded"] and not second["history"]["seeded"]
    assert Member.objects.count() == 5
    assert User.objects.count() == 12  # 3 bureau roles + 3 member roles x 3 members
    assert {u["role"] for u in second["users"]} == {
        "bureau_admin", "compliance", "auditor", "member_admin", "uploader", "analyst"
    }  # fmt: skip
    active = ApiKey.objects.filter(name="demo", revoked_at__isnull=True)
    assert active.count() == 3
    assert {parse_key(k["key"]).prefix for k in second["keys"]} == set(
        active.values_list("prefix", flat=True)
    )
    assert not ({k["key"] for k in first["keys"]} & {k["key"] for k in second["keys"]})
    assert Record.objects.count() == counts["records"] > 500
    assert Batch.objects.count() == counts["batches"]
    assert Inquiry.objects.count() == counts["inquiries"]
    assert Dispute.objects.count() == counts["disputes"]
    assert second["persons"] == first["persons"]
    assert User.objects.get(username="anxin_analyst").check_password(PASSWORD)


def test_seed_demo_records_when_seeded_overlap_across_members(demo):
    shared = (
        Record.objects.values("subject")
        .annotate(members=Count("member", distinct=True))
        .filter(members__gte=2)
    )
    assert shared.count() >= 30
    assert Profile.objects.filter(platforms_total__gte=3).exists()


def test_seed_demo_history_when_seeded_colours_every_grid_for_months(demo):
    today = timezone.localdate()
    window = month_start(today, 23)
    coloured = dict(
        RecordMonth.objects.filter(month__gte=window)
        .exclude(status__in=["#", "/"])
        .values_list("record_id")
        .annotate(n=Count("month"))
    )
    records = list(Record.objects.all())
    assert records and all(coloured.get(r.pk, 0) >= 1 for r in records)
    old = [r for r in records if r.opened_on < today - timedelta(days=800)]
    assert len(old) > 100
    # Opened more than two years ago: every one of the 24 months is furnished.
    assert all(coloured.get(r.pk, 0) == 24 for r in old)
    this_month = set(
        RecordMonth.objects.filter(month=today.replace(day=1)).values_list(
            "record_id", flat=True
        )
    )
    assert {r.pk for r in records} <= this_month
    statuses = {r.status for r in records}
    assert statuses == {"current", "overdue", "default", "written_off", "settled",
                        "closed"}  # fmt: skip
    # Paths: some slipped month by month (1, 2, 3), some were cured.
    grids = {}
    for record_id, _month, status in RecordMonth.objects.values_list(
        "record_id", "month", "status"
    ).order_by("record_id", "month"):
        grids.setdefault(record_id, []).append(status)
    text = ["".join(g) for g in grids.values()]
    assert any("N123" in g for g in text)
    assert any("1N" in g or "2N" in g for g in text)
    assert any("DZ" in g or "7Z" in g for g in text)


def test_seed_demo_activity_when_seeded_spreads_over_weeks(demo):
    now = timezone.now()
    month = Q(finished_at__gte=now - timedelta(days=30))
    batches = Batch.objects.filter(month, validate_only=False)
    span = batches.aggregate(first=Min("finished_at"), last=Max("finished_at"))
    assert span["last"] - span["first"] >= timedelta(days=21)
    inquiries = Inquiry.objects.filter(created_at__gte=now - timedelta(days=30))
    span = inquiries.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert span["last"] - span["first"] >= timedelta(days=21)
    weekday = sum(
        1
        for i in inquiries.only("created_at")
        if timezone.localtime(i.created_at).weekday() < 5
    )
    assert weekday > 3 * (inquiries.count() - weekday)  # office days, mostly
    board = dashboard(days=30)
    assert sum(1 for n in board.queries.queries if n) >= 20
    per_day = [
        sum(day) for day in zip(*(s.per_day for s in board.furnished), strict=True)
    ]
    assert sum(1 for n in per_day if n) >= 8
    assert len(board.furnished) == 5
    # The monthly snapshots go back most of a year (the rows' payment history
    # the months before).
    assert Batch.objects.aggregate(Min("finished_at"))["finished_at__min"] < (
        now - timedelta(days=300)
    )
    assert BatchError.objects.values("batch").distinct().count() >= 5
    assert Batch.objects.filter(status="failed", rows_rejected__gt=0).exists()


def test_seed_demo_rows_when_furnished_are_valid_but_for_the_defects_put_in(demo):
    from bureau.demo_data.plan import DEFECTS

    rejected = Batch.objects.filter(rows_rejected__gt=0)
    assert set(rejected.values_list("member__code", flat=True)) <= set(DEFECTS)
    assert not Batch.objects.filter(rows_stale__gt=0).exists()


def test_seed_demo_persons_when_printed_are_found_by_a_real_query(demo):
    first, _, _ = demo
    assert [p["kind"] for p in first["persons"]] == ["clean", "multi", "blacklisted"]
    key = ApiKey.objects.get(member__code="anxin", name="core-banking")
    for kind in ("clean", "multi", "blacklisted"):
        out = io.StringIO()
        call_command("demo_persons", "--kind", kind, "--count", "4", "--json",
                     stdout=out)  # fmt: skip
        printed = [json.loads(line) for line in out.getvalue().splitlines()]
        assert len(printed) == 4
        for person in printed:
            inquiry, report = query_run(
                actor=KeyPrincipal(key),
                member=key.member,
                data=QueryInput(
                    id_type=person["id_type"],
                    id_number=person["id_number"],
                    name=person["name"],
                    purpose="loan_approval",
                    consent_reference="TEST-APP-0001",
                ),
            )
            assert inquiry.hit
            profile = report["profile"]
            if kind == "blacklisted":
                assert profile["blacklisted"]
            elif kind == "multi":
                assert profile["platforms_total"] >= 2
                assert not profile["blacklisted"]
            else:
                assert profile["accounts_overdue"] == 0
                assert not profile["blacklisted"]
    assert first["persons"][1]["platforms"] >= 3


def test_seed_demo_when_seeded_has_disputes_statements_watches_and_more(demo):
    statuses = set(Dispute.objects.values_list("status", flat=True))
    assert statuses == {"open", "corrected", "confirmed"}
    suppressed = Dispute.objects.get(suppressed_at__isnull=False)
    assert suppressed.status == "open" and suppressed.record.suppressed
    assert Dispute.objects.filter(status="open", suppressed_at=None).count() == 2
    assert SubjectStatement.objects.count() >= 2
    watches = Watch.objects.filter(deleted_at=None)
    assert watches.count() >= 3 and all(w.consent_reference for w in watches)
    assert Webhook.objects.filter(active=True).count() == 1
    screening = Screening.objects.get()
    assert screening.status == "completed" and screening.persons_total == 40
    assert Alert.objects.filter(status="open").exists()
    # A watched person slipped at another platform: the watch alerted.
    assert Webhook.objects.get().deliveries.exists()


def test_seed_demo_when_seeded_leaves_a_chain_that_verifies_in_time_order(
    demo, settings, tmp_path
):
    # Checkpoints of the developer's own demo database must not be read here.
    settings.BUREAU_AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "intact" in out.getvalue() or "完整" in out.getvalue()
    times = list(
        AuditEvent.objects.order_by("sequence").values_list("created_at", flat=True)
    )
    assert times[0] < timezone.now() - timedelta(days=300)
    late = [b for a, b in itertools.pairwise(times) if b < a - timedelta(minutes=5)]
    assert not late  # written in time order, as it happened


def test_seed_demo_when_seeded_keeps_no_identity_number_in_clear(demo):
    first, _, _ = demo
    numbers = [p["id_number"] for p in first["persons"]]
    assert not Batch.objects.exclude(file="").exists()  # raw files deleted
    assert not Screening.objects.exclude(file="").exists()
    texts = [
        *BatchError.objects.values_list("value", flat=True),
        *(json.dumps(d) for d in AuditEvent.objects.values_list("details", flat=True)),
        *Inquiry.objects.values_list("id_masked", "consent_reference"),
    ]
    blob = json.dumps(texts, default=str)
    assert not any(number in blob for number in numbers)
