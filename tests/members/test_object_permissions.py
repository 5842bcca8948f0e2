"""The two guardian helpers: grant on an object; filter a queryset to permitted."""

import pytest
from django.contrib.auth.models import Group, Permission

from bureau.records.models import Batch
from members.object_permissions import filter_to_permitted, grant_object_permissions
from members.principals import KeyPrincipal
from tests.factories import bureau_user, issue_key
from tests.records.helpers import csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db
PERM = "records.view_batch"


@pytest.fixture
def batches(acme):
    return [ingest(acme, csv_bytes([good_row(account_no=f"A-{n}")])) for n in range(2)]


def permitted(user) -> set[int]:
    queryset = Batch.objects.all()
    return set(
        filter_to_permitted(user=user, queryset=queryset, perm=PERM).values_list(
            "pk", flat=True
        )
    )


def test_filter_when_nothing_granted_returns_nothing(bob, batches):
    assert permitted(bob) == set()


def test_filter_when_one_object_granted_returns_only_it(bob, batches):
    grant_object_permissions(obj=batches[0], users=[bob], perms=["view_batch"])
    assert permitted(bob) == {batches[0].pk}


def test_filter_when_granted_through_a_group_returns_it(bob, batches):
    team = Group.objects.create(name="acme-data-team")
    bob.groups.add(team)
    grant_object_permissions(obj=batches[1], groups=[team], perms=[PERM])
    assert permitted(bob) == {batches[1].pk}


def test_filter_when_user_holds_the_global_permission_ignores_it(bob, batches):
    bob.user_permissions.add(Permission.objects.get(codename="view_batch"))
    assert permitted(bob) == set()


@pytest.mark.parametrize("role", ["bureau_admin", "auditor"])
def test_filter_when_bureau_reader_returns_queryset_unchanged(role, batches):
    assert permitted(bureau_user(f"staff-{role}", role)) == {b.pk for b in batches}


def test_filter_when_compliance_returns_only_granted(batches):
    assert permitted(bureau_user("cora", "compliance")) == set()


def test_filter_when_caller_is_an_api_key_returns_nothing(acme, batches):
    key, _ = issue_key(acme)
    assert permitted(KeyPrincipal(key)) == set()


def test_filter_when_user_deactivated_returns_nothing(bob, batches):
    grant_object_permissions(obj=batches[0], users=[bob], perms=[PERM])
    bob.is_active = False
    bob.save()
    assert permitted(bob) == set()
