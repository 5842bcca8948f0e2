"""Profiles: hand-built cases, and incremental aggregation == full rebuild."""

import io
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bureau.records.models import BatchError, Profile, Record, Subject
from bureau.records.services.aggregate import profiles_rebuild, profiles_refresh
from bureau.records.services.ingest import batch_ingest
from bureau.records.services.upload import batch_create
from tests.factories import MemberFactory
from tests.records.helpers import ID_A, ID_B, csv_bytes, current_row, days_ago, good_row

pytestmark = pytest.mark.django_db


def furnish(member, rows) -> None:
    batch, _ = batch_create(
        member=member, handle=io.BytesIO(csv_bytes(rows)), filename="f.csv"
    )
    batch_ingest(batch_id=batch.pk)


def profile_of(id_number: str = ID_A) -> Profile:
    subject = Subject.objects.get(id_masked=f"{id_number[:6]}********{id_number[-4:]}")
    profiles_refresh(subject_ids=[subject.pk])
    return Profile.objects.get(subject=subject)


def test_two_members_overdue_when_aggregated_blacklists_for_platforms(acme, globex):
    furnish(acme, [good_row(days_overdue="30", amount_overdue="500")])
    furnish(
        globex, [good_row(account_no="G-1", days_overdue="20", amount_overdue="300")]
    )
    profile = profile_of()
    assert (profile.platforms_total, profile.platforms_with_overdue) == (2, 2)
    assert (profile.accounts_total, profile.accounts_overdue) == (2, 2)
    assert profile.total_amount_overdue == Decimal("800.00")
    assert profile.max_days_overdue == 30 and profile.worst_status == "overdue"
    assert profile.blacklisted and profile.blacklist_reasons == ["platforms_overdue"]


def test_one_member_overdue_under_threshold_when_aggregated_is_not_blacklisted(
    acme, globex
):
    furnish(acme, [good_row(days_overdue="30")])
    furnish(globex, [current_row(account_no="G-1")])
    profile = profile_of()
    assert (profile.platforms_total, profile.platforms_with_overdue) == (2, 1)
    assert not profile.blacklisted and profile.blacklist_reasons == []


def test_default_status_when_aggregated_fires_status_clause(acme):
    furnish(acme, [good_row(status="default", days_overdue="120", classification="")])
    profile = profile_of()
    assert (
        profile.worst_status == "default"
        and profile.worst_classification == "substandard"
    )
    assert profile.blacklist_reasons == ["status", "days_overdue"]


def test_settled_accounts_when_aggregated_count_but_owe_nothing(acme):
    settled = current_row(status="settled", balance="0", payment_history="C")
    furnish(acme, [settled, current_row(account_no="ACC-2", balance="4000")])
    profile = profile_of()
    assert (profile.accounts_total, profile.accounts_overdue) == (2, 0)
    assert (
        profile.total_balance == Decimal("4000.00")
        and profile.worst_status == "current"
    )
    assert not profile.blacklisted


def test_guarantor_rows_when_aggregated_are_counted_apart(acme):
    guarantee = good_row(role="guarantor", status="default", days_overdue="200")
    furnish(acme, [guarantee, current_row(account_no="ACC-2")])
    profile = profile_of()
    assert (
        profile.accounts_total,
        profile.guarantees_total,
        profile.guarantees_overdue,
    ) == (1, 1, 1)
    assert profile.max_days_overdue == 0 and not profile.blacklisted


def test_first_delinquency_and_last_report_when_aggregated_span_accounts(acme):
    furnish(
        acme,
        [
            good_row(
                first_delinquency_on=days_ago(90), days_overdue="60", as_of=days_ago(30)
            ),
            good_row(
                account_no="B",
                first_delinquency_on=days_ago(50),
                days_overdue="45",
                as_of=days_ago(5),
            ),
        ],
    )
    profile = profile_of()
    assert str(profile.first_delinquency_on) == days_ago(90)
    assert str(profile.last_reported_on) == days_ago(5)


def test_suppressed_record_when_aggregated_is_left_out(acme, globex):
    furnish(acme, [good_row()])
    furnish(globex, [good_row(account_no="G")])
    Record.objects.filter(member=globex).update(suppressed=True)
    profile = profile_of()
    assert (profile.platforms_total, profile.platforms_with_overdue) == (1, 1)


def test_subject_with_all_records_deleted_when_aggregated_loses_profile(acme):
    furnish(acme, [good_row()])
    profile = profile_of()
    furnish(
        acme,
        [
            {
                "account_no": "ACC-1",
                "id_type": "resident_id",
                "id_number": ID_A,
                "as_of": days_ago(0),
                "action": "delete",
            }
        ],
    )
    profiles_refresh(subject_ids=[profile.subject_id])
    assert not Profile.objects.filter(subject_id=profile.subject_id).exists()


def test_blacklist_rule_when_settings_change_follows_settings(acme, settings):
    settings.BUREAU_BLACKLIST = {
        "statuses": [],
        "min_days_overdue": 30,
        "min_platforms_overdue": 9,
    }
    furnish(acme, [good_row(days_overdue="45")])
    assert profile_of().blacklist_reasons == ["days_overdue"]


PROFILE_FIELDS = [f.name for f in Profile._meta.fields if f.name != "updated_at"]


def snapshot() -> list[tuple]:
    return sorted(Profile.objects.values_list(*PROFILE_FIELDS))


class Rollback(Exception):
    pass


rows = st.lists(
    st.fixed_dictionaries(
        {
            "member": st.sampled_from(["m1", "m2", "m3"]),
            "account": st.sampled_from(["A", "B"]),
            "id_number": st.sampled_from([ID_A, ID_B]),
            "status": st.sampled_from(["current", "overdue", "default", "settled"]),
            "days": st.sampled_from([0, 15, 95, 400]),
            "role": st.sampled_from(["borrower", "borrower", "guarantor"]),
            "delete": st.booleans(),
        }
    ),
    min_size=1,
    max_size=4,  # small batches: some touch a subject only by deleting
)


def _to_row(spec: dict, index: int) -> dict:
    if spec["delete"]:
        return {
            "account_no": spec["account"],
            "id_type": "resident_id",
            "id_number": spec["id_number"],
            "as_of": days_ago(5 - index),
            "action": "delete",
        }
    status, days = spec["status"], spec["days"]
    if status in ("current", "settled"):
        return current_row(
            account_no=spec["account"],
            id_number=spec["id_number"],
            status=status,
            balance="0" if status == "settled" else "900",
            role=spec["role"],
            as_of=days_ago(5 - index),
            first_delinquency_on=days_ago(300),
        )
    return good_row(
        account_no=spec["account"],
        id_number=spec["id_number"],
        status=status,
        days_overdue=str(max(days, 1)),
        role=spec["role"],
        as_of=days_ago(5 - index),
        first_delinquency_on=days_ago(300),
        payment_history="",
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batches=st.lists(rows, min_size=1, max_size=5))
def test_incremental_aggregation_when_compared_equals_full_rebuild(batches, settings):
    try:
        with transaction.atomic():
            members = {code: MemberFactory(code=code) for code in ("m1", "m2", "m3")}
            # incremental: after each batch, refresh the subjects it touched
            for index, batch_rows in enumerate(batches):
                per_member: dict[str, list] = {}
                for spec in batch_rows:
                    per_member.setdefault(spec["member"], []).append(
                        _to_row(spec, index)
                    )
                for code, member_rows in per_member.items():
                    batch, _ = batch_create(
                        member=members[code],
                        filename=f"{index}.csv",
                        handle=io.BytesIO(csv_bytes(member_rows)),
                    )
                    batch_ingest(batch_id=batch.pk)
                    from bureau.records.selectors import batch_subject_ids

                    profiles_refresh(
                        subject_ids=list(batch_subject_ids(batch_id=batch.pk))
                    )
            # Every generated row is valid: the property must not pass vacuously.
            assert not BatchError.objects.exists(), list(BatchError.objects.values())
            incremental = snapshot()
            profiles_rebuild()
            assert snapshot() == incremental
            raise Rollback
    except Rollback:
        pass


def test_delete_only_batch_when_finished_hands_its_subject_to_aggregation(acme):
    from bureau.records.selectors import batch_subject_ids

    furnish(acme, [good_row(as_of=days_ago(5))])
    profile_of()
    delete = {
        "account_no": "ACC-1",
        "id_type": "resident_id",
        "id_number": ID_A,
        "as_of": days_ago(1),
        "action": "delete",
    }
    batch, _ = batch_create(
        member=acme, handle=io.BytesIO(csv_bytes([delete])), filename="d.csv"
    )
    batch = batch_ingest(batch_id=batch.pk)
    assert batch.records_deleted == 1
    touched = list(batch_subject_ids(batch_id=batch.pk))
    assert touched == [Subject.objects.get().pk]
    profiles_refresh(subject_ids=touched)
    assert not Profile.objects.exists()
