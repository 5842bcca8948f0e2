"""Admin pages showing personal data are audited for every staff reader."""

import pytest

from bureau.audit.models import AuditEvent
from tests.records.helpers import csv_bytes, good_row, ingest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["subject", "record"])
def test_admin_view_when_bureau_admin_reads_subjects_or_records_is_audited(
    client, acme, model
):
    from django.contrib.auth import get_user_model

    ingest(acme, csv_bytes([good_row()]))
    admin = get_user_model().objects.create_superuser(
        "root", "root@example.org", "x-long-pass-1"
    )
    client.force_login(admin)
    changelist = client.get(f"/admin/records/{model}/")
    assert changelist.status_code == 200
    events = AuditEvent.objects.filter(
        action="admin.view", object_type=f"records.{model}"
    )
    assert events.filter(actor_user=admin).count() == 1


def test_admin_view_when_reading_members_is_not_audited_for_admins(client, acme):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser(
        "root", "root@example.org", "x-long-pass-1"
    )
    client.force_login(admin)
    assert client.get("/admin/members/member/").status_code == 200
    assert not AuditEvent.objects.filter(action="admin.view").exists()


def test_webhook_admin_page_when_viewed_never_shows_the_secret(client, acme):
    from django.contrib.auth import get_user_model

    from reports.models import Webhook

    hook = Webhook.objects.create(
        member=acme, url="https://hooks.example.org/bureau", events=["batch.completed"],
        secret="whsec-visible-only-once-42",
    )  # fmt: skip
    admin = get_user_model().objects.create_superuser(
        "root", "root@example.org", "x-long-pass-1"
    )
    client.force_login(admin)
    page = client.get(f"/admin/reports/webhook/{hook.pk}/change/")
    assert page.status_code == 200
    assert "whsec-visible-only-once-42" not in page.content.decode()
