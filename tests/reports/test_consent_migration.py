"""Migration 0004: consent references stored before the refusal are masked."""

import importlib

import pytest
from django.db import connection

from reports.models import Inquiry
from tests.factories import an_inquiry
from tests.records.helpers import ID_A

pytestmark = pytest.mark.django_db
migration = importlib.import_module(
    "reports.migrations.0004_mask_identity_in_consent_references"
)


def test_consent_references_when_migrated_mask_identities_and_keep_the_rest(acme):
    kept = ["C-2026-0001", "C-202401010001234567", "110105194912310021"]
    clear = [f"C-{ID_A}", "13812345678", "+86 139 1234 5678"]
    for consent in kept + clear:
        Inquiry.objects.create(**an_inquiry(acme, consent_reference=consent))
    with connection.schema_editor() as editor:
        migration.mask_consent_references(None, editor)
    assert sorted(Inquiry.objects.values_list("consent_reference", flat=True)) == (
        sorted(
            [
                *kept,
                "C-110105********002X",
                "138****5678",
                "+86 139 **** 5678",
            ]
        )
    )
