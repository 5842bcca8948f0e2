"""Disputes: compliance opens one for a record, the furnisher corrects or confirms
it within 20 days, else the record is suppressed from profiles until it answers.

Every transition is audited. Claims and notes are free text that may carry
personal data, so they never go into audit details, and identity numbers and phones
in them are stored masked (`mask_free_text`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import DateField, F, Value
from django.db.models.functions import Least
from django.utils import timezone
from django.utils.translation import gettext as _

from bureau.audit.services import audit_record
from bureau.core.actors import ActorLike
from bureau.core.errors import Conflict, Forbidden, ValidationFailed
from bureau.records.columns import CORRECTABLE, SPEC, Column
from bureau.records.fileformat import CleanRow, RowValidator
from bureau.records.fileformat.validation import REAGING
from bureau.records.history import month_status
from bureau.records.identity import mask_free_text
from bureau.records.models import Batch, Dispute, Record
from bureau.records.services.aggregate import profiles_refresh_and_alert
from bureau.records.services.ingest import row_hash
from bureau.records.services.merge import seq_after_batch
from bureau.records.services.upload import member_upload_lock
from members.models import ApiKey, Role, User
from members.principals import actor_user_and_key

# CharFields of the model: their max_length is set (the stubs say int | None).
CLAIM_MAX = cast(int, Dispute._meta.get_field("claim").max_length)
NOTE_MAX = cast(int, Dispute._meta.get_field("answer_note").max_length)
SYSTEM_ACTOR = "system:disputes"

# What a correction may change (CORRECTABLE, from the column spec): the reported
# values, stored on the record, and the payment history, stored as its months.
_CORRECTED_FIELDS = tuple(
    c for c in SPEC if c.correctable and c.record_field is not None
)
# The identity number is not stored (only its HMAC), so the row validated for a
# correction carries a stand-in that passes; the key is not re-checked or written.
_KEY_STAND_IN = {"id_type": "other", "id_number": "on-file"}


def _role(actor: ActorLike) -> str:
    return getattr(actor, "role", "") or ""


def require_compliance(actor: ActorLike) -> User:
    """The compliance officer (or superuser) acting; Forbidden for anyone else."""
    if isinstance(actor, User) and (
        actor.role == Role.COMPLIANCE or actor.is_superuser
    ):
        return actor
    raise Forbidden(_("Only compliance staff may do this."))


# Disputes due within this many days are flagged (furnisher page, dashboard).
DUE_SOON_DAYS = 3


def days_until(due_at: datetime, now: datetime) -> int:
    """Whole days (rounded up) until a deadline; 0 when past."""
    return max(0, math.ceil((due_at - now).total_seconds() / 86400))


def days_left(dispute: Dispute, *, now: datetime | None = None) -> int | None:
    """Days until the deadline of an open dispute; None once answered."""
    if dispute.status != Dispute.Status.OPEN:
        return None
    return days_until(dispute.due_at, now or timezone.now())


def dispute_open(*, record: Record, claim: str, actor: ActorLike) -> Dispute:
    """Open a dispute on a record (compliance). One open dispute per record."""
    officer = require_compliance(actor)
    claim = (claim or "").strip()
    if not claim:
        raise ValidationFailed(
            errors={"claim": [_("Describe what the subject disputes.")]}
        )
    if len(claim) > CLAIM_MAX:
        raise ValidationFailed(
            errors={"claim": [_("At most %(max)s characters.") % {"max": CLAIM_MAX}]}
        )
    claim = mask_free_text(claim)  # same length: the limit still holds
    with transaction.atomic():
        # The record row lock serialises openers (the partial unique index is the
        # last line of defence).
        record = Record.objects.select_for_update().get(pk=record.pk)
        if Dispute.objects.filter(record=record, status=Dispute.Status.OPEN).exists():
            raise Conflict(_("This record already has an open dispute."))
        now = timezone.now()
        dispute = Dispute.objects.create(
            record=record,
            subject_id=record.subject_id,
            member_id=record.member_id,
            claim=claim,
            opened_by=officer,
            opened_at=now,
            due_at=now + timedelta(days=Dispute.ANSWER_DAYS),
        )
        audit_record(
            actor=actor,
            action="dispute.open",
            obj=dispute,
            member=record.member_id,
            details={
                "record": record.pk,
                "subject": record.subject_id,
                "due_at": dispute.due_at.isoformat(),
            },
        )
    return dispute


@dataclass(frozen=True)
class _Answerer:
    user: User | None
    key: ApiKey | None
    member_id: int | None


def _answerer(actor: ActorLike) -> _Answerer:
    user, key = actor_user_and_key(actor)
    if key is not None:
        return _Answerer(user=None, key=key, member_id=key.member_id)
    return _Answerer(user=user, key=None, member_id=getattr(actor, "member_id", None))


def _check_furnisher(dispute: Dispute, actor: ActorLike, who: _Answerer) -> None:
    if who.member_id is None or who.member_id != dispute.member_id:
        raise Forbidden(_("Only the member that furnished the record may answer."))
    if who.key is not None:
        if "upload" not in who.key.scopes:
            raise Forbidden(
                _("This key lacks the '%(scope)s' scope.") % {"scope": "upload"},
                code="scope_missing",
            )
    elif _role(actor) not in (Role.MEMBER_ADMIN, Role.UPLOADER):
        raise Forbidden(_("Only member admins and uploaders may answer disputes."))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _correction_row(record: Record, values: dict[str, Any]) -> dict[str, str]:
    """The record as an upload row (what is on file), with the corrections laid
    over it. Unknown or key columns are refused, as validation errors."""
    errors: dict[str, list[str]] = {}
    for column in values:
        if column not in CORRECTABLE:
            errors[f"values.{column}"] = [
                _(
                    "Cannot be corrected here: the account, person and name stay "
                    "as on file."
                )
            ]
    if errors:
        raise ValidationFailed(errors=errors)
    row = {
        "account_no": record.account_no,
        **_KEY_STAND_IN,
        "name": record.subject.name,
        **{c.name: _text(getattr(record, c.field)) for c in _CORRECTED_FIELDS},
        "payment_history": "",
    }
    if "classification" not in values and (
        "days_overdue" in values or "status" in values
    ):
        row["classification"] = ""  # derived again from the corrected days
    row.update({column: _text(value) for column, value in values.items()})
    return row


def _validated(record: Record, values: dict[str, Any]):
    """Validate a correction exactly like an upload row, plus the merge's rules
    against what is on file (no re-aging, not older than the stored report)."""
    row = _correction_row(record, values)
    clean, row_errors = RowValidator(today=timezone.localdate()).validate(1, row)
    errors: dict[str, list[str]] = {}
    for error in row_errors:
        errors.setdefault(f"values.{error.column}", []).append(error.message)
    if clean is not None:
        stored = record.first_delinquency_on
        if stored is not None and (clean.first_delinquency_on or stored) > stored:
            errors["values.first_delinquency_on"] = [
                _(
                    "%(code)s: would move first_delinquency_on later than the date "
                    "already on file (re-aging is not allowed)."
                )
                % {"code": REAGING}
            ]
        if clean.as_of < record.as_of:
            errors["values.as_of"] = [
                _("Must not be before the as_of of the report on file.")
            ]
    if errors:
        raise ValidationFailed(_("The corrected values are invalid."), errors=errors)
    return clean


_CORRECT_MONTHS = """
INSERT INTO records_recordmonth (record_id, month, status, as_of, furnished_seq)
SELECT %(record_id)s, m.month, m.status, %(as_of)s, %(seq)s
  FROM (
       SELECT date_trunc('month', %(as_of)s::date)::date AS month,
              %(month_status)s::text AS status
       UNION ALL
       SELECT (date_trunc('month', %(as_of)s::date)
               - make_interval(months => i - 1))::date,
              substr(%(history)s, i, 1)
         FROM generate_series(2, length(%(history)s)) AS i
  ) m
ON CONFLICT (record_id, month) DO UPDATE
   SET status = EXCLUDED.status, as_of = EXCLUDED.as_of,
       furnished_seq = EXCLUDED.furnished_seq
"""


def correction_seq(member_id: int) -> int:
    """A correction's place in the member's furnishing order: after every batch
    the member uploaded before it, before any it uploads after (so a same-as_of
    batch still in the queue does not undo the correction). Takes the member's
    upload lock for the rest of the transaction, so no upload slips in between."""
    member_upload_lock(member_id)
    last = (
        Batch.objects.filter(member_id=member_id)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return seq_after_batch(last or 0)


def _corrected_value(clean: CleanRow, column: Column) -> Any:
    """The value a correction stores, by the merge's rules: a date kept earliest
    never moves later (no re-aging)."""
    value = getattr(clean, column.name)
    if column.keep_earliest:
        return Least(F(column.field), Value(value, output_field=DateField()))
    return value


def _apply_correction(record: Record, clean) -> list[str]:
    """One UPDATE of the record (first_delinquency_on never later, as in the
    merge) and its corrected months; returns the names of changed fields."""
    seq = correction_seq(record.member_id)
    changed = [
        c.name
        for c in _CORRECTED_FIELDS
        if getattr(clean, c.name) != getattr(record, c.field)
        and not (c.keep_earliest and getattr(clean, c.name) is None)
    ]
    Record.objects.filter(pk=record.pk).update(
        **{c.field: _corrected_value(clean, c) for c in _CORRECTED_FIELDS},
        row_hash=row_hash(clean),
        furnished_seq=seq,
        suppressed=False,
        updated_at=timezone.now(),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _CORRECT_MONTHS,
            {
                "record_id": record.pk,
                "as_of": clean.as_of,
                "month_status": month_status(clean.status, clean.days_overdue),
                "history": clean.payment_history,
                "seq": seq,
            },
        )
    if clean.payment_history:
        changed.append("payment_history")
    return changed


def dispute_answer(
    *,
    dispute: Dispute,
    outcome: str,
    values: dict[str, Any] | None = None,
    note: str = "",
    actor: ActorLike,
) -> Dispute:
    """The furnisher answers: `corrected` (with the new values, validated like an
    upload row) or `confirmed`. Either lifts a suppression; the profile is
    recomputed. Compliance may instead close it as `withdrawn` (the subject
    dropped the claim)."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed(
            errors={"note": [_("At most %(max)s characters.") % {"max": NOTE_MAX}]}
        )
    note = mask_free_text(note)
    if outcome == Dispute.Status.WITHDRAWN:
        who = _Answerer(user=require_compliance(actor), key=None, member_id=None)
    elif outcome in Dispute.ANSWERED_STATUSES:
        who = _answerer(actor)
        _check_furnisher(dispute, actor, who)
    else:
        raise ValidationFailed(
            errors={"outcome": [_("Must be corrected, confirmed or withdrawn.")]}
        )
    if outcome == Dispute.Status.CORRECTED and not values:
        raise ValidationFailed(errors={"values": [_("Give the corrected values.")]})
    if outcome != Dispute.Status.CORRECTED and values:
        raise ValidationFailed(
            errors={"values": [_("Only a correction carries values.")]}
        )

    with transaction.atomic():
        dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if dispute.status != Dispute.Status.OPEN:
            raise Conflict(
                _("This dispute is already %(status)s.") % {"status": dispute.status}
            )
        record = (
            Record.objects.select_for_update(of=("self",))
            .select_related("subject")
            .get(pk=dispute.record_id)
        )
        was_suppressed = record.suppressed
        changed: list[str] = []
        if outcome == Dispute.Status.CORRECTED:
            # No values (left out) corrects nothing, as empty ones do.
            changed = _apply_correction(record, _validated(record, values or {}))
        elif was_suppressed:
            Record.objects.filter(pk=record.pk).update(suppressed=False)
        now = timezone.now()
        answered = outcome in Dispute.ANSWERED_STATUSES
        Dispute.objects.filter(pk=dispute.pk, status=Dispute.Status.OPEN).update(
            status=outcome,
            answered_at=now if answered else None,
            answered_by=who.user,
            answered_with_key=who.key,
            answer_note=note,
        )
        if changed or was_suppressed:
            profiles_refresh_and_alert([record.subject_id])
        audit_record(
            actor=actor,
            action=f"dispute.{outcome}",
            obj=dispute,
            member=dispute.member_id,
            details={
                "record": record.pk,
                "subject": record.subject_id,
                "fields": changed,
                "suppression_lifted": was_suppressed,
                "days_late": max(0, (now - dispute.due_at).days),
            },
        )
    dispute.refresh_from_db()
    return dispute


_SUPPRESS_OVERDUE = """
WITH due AS (
  UPDATE records_dispute
     SET suppressed_at = %(now)s
   WHERE status = 'open' AND due_at <= %(now)s AND suppressed_at IS NULL
  RETURNING id, record_id, subject_id
), hidden AS (
  UPDATE records_record r SET suppressed = true
    FROM due WHERE r.id = due.record_id AND NOT r.suppressed
  RETURNING r.id
)
SELECT due.id, due.subject_id FROM due ORDER BY due.id
"""


@dataclass
class SuppressionRun:
    disputes: int
    subjects: int


def disputes_suppress_overdue(*, now: datetime | None = None) -> SuppressionRun:
    """Suppress the records of open disputes past their deadline (daily job) and
    recompute the profiles concerned; one audit event per run."""
    now = now or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_SUPPRESS_OVERDUE, {"now": now})
            rows = cursor.fetchall()
        subject_ids = sorted({subject_id for _, subject_id in rows})
        profiles_refresh_and_alert(subject_ids)
        dispute_ids = [dispute_id for dispute_id, _ in rows]
        audit_record(
            actor=SYSTEM_ACTOR,
            action="dispute.suppress_overdue",
            object_type="records.dispute",
            details={
                "disputes": len(rows),
                "subjects": len(subject_ids),
                "now": now.isoformat(),
                "dispute_ids": dispute_ids[:1000],
            },
        )
    return SuppressionRun(disputes=len(rows), subjects=len(subject_ids))
