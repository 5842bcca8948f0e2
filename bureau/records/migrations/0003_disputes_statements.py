"""Disputes and subject statements (data-subject rights).

The dispute's record FK is declared db_constraint=False and made here instead, as
ON DELETE CASCADE: records are also deleted by set-based SQL (a furnisher's
delete rows, the retention purge), which Django's ORM-level CASCADE never sees,
and Django 5.2 cannot declare a database-side cascade on the field.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0002_apikey_rotated_from"),
        ("records", "0002_fillfactor"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Dispute",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("claim", models.CharField(max_length=2000)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Open"),
                            ("corrected", "Corrected"),
                            ("confirmed", "Confirmed"),
                            ("withdrawn", "Withdrawn"),
                        ],
                        default="open",
                        max_length=16,
                    ),
                ),
                ("opened_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("due_at", models.DateTimeField()),
                ("answered_at", models.DateTimeField(blank=True, null=True)),
                ("answer_note", models.CharField(blank=True, max_length=2000)),
                (
                    "suppressed_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="When the deadline passed unanswered.",
                        null=True,
                    ),
                ),
                (
                    "answered_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "answered_with_key",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="members.apikey",
                    ),
                ),
                (
                    "member",
                    models.ForeignKey(
                        help_text="The furnisher of the record, who must answer.",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="members.member",
                    ),
                ),
                (
                    "opened_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "record",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="disputes",
                        to="records.record",
                    ),
                ),
                (
                    "subject",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="records.subject",
                    ),
                ),
            ],
            options={
                "ordering": ["-opened_at", "-id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("status", "open")),
                        fields=["due_at"],
                        name="dispute_open_due",
                    ),
                    models.Index(
                        fields=["member", "status", "due_at"],
                        name="dispute_member_status",
                    ),
                    models.Index(
                        fields=["subject", "-opened_at"], name="dispute_subject"
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "open")),
                        fields=("record",),
                        name="dispute_one_open_per_record",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "status__in",
                                ["open", "corrected", "confirmed", "withdrawn"],
                            )
                        ),
                        name="dispute_status_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("answered_at__isnull", False),
                                ("status__in", ["corrected", "confirmed"]),
                            ),
                            models.Q(
                                ("answered_at__isnull", True),
                                ("status__in", ["open", "withdrawn"]),
                            ),
                            _connector="OR",
                        ),
                        name="dispute_answered_when_answered",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("due_at__gt", models.F("opened_at"))),
                        name="dispute_due_after_opened",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("claim", ""), _negated=True),
                        name="dispute_claim_given",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="SubjectStatement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("text", models.CharField(max_length=500)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("withdrawn_at", models.DateTimeField(blank=True, null=True)),
                (
                    "added_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "subject",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="statements",
                        to="records.subject",
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("withdrawn_at__isnull", True)),
                        fields=["subject", "created_at"],
                        name="statement_subject_current",
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("text", ""), _negated=True),
                        name="statement_text_given",
                    )
                ],
            },
        ),
        migrations.RunSQL(
            "ALTER TABLE records_dispute ADD CONSTRAINT dispute_record_fk"
            " FOREIGN KEY (record_id) REFERENCES records_record (id)"
            " ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED",
            "ALTER TABLE records_dispute DROP CONSTRAINT dispute_record_fk",
        ),
    ]
