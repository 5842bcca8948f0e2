"""`seed_demo` makes a usable demo and can run again."""

import io
import json

import pytest
from django.core.management import call_command
from django.db.models import Count

from bureau.records.models import Profile, Record
from members.keys import parse_key
from members.models import ApiKey, Member, User

pytestmark = pytest.mark.django_db


def seed(monkeypatch) -> dict:
    monkeypatch.setenv("BUREAU_DEMO_PASSWORD", "demo-pass-for-tests-42")
    out = io.StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_seed_demo_when_run_twice_is_idempotent_and_prints_working_keys(monkeypatch):
    first = seed(monkeypatch)
    records_after_first = Record.objects.count()
    second = seed(monkeypatch)
    assert Member.objects.count() == 3
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
    assert Record.objects.count() == records_after_first > 300
    assert User.objects.get(username="anxin_analyst").check_password(
        "demo-pass-for-tests-42"
    )


def test_seed_demo_records_when_seeded_overlap_across_members(monkeypatch):
    seed(monkeypatch)
    shared = (
        Record.objects.values("subject")
        .annotate(members=Count("member", distinct=True))
        .filter(members__gte=2)
    )
    assert shared.count() >= 10
    assert Profile.objects.filter(platforms_total__gte=2).exists()
