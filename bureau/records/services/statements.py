"""Subject statements: the subject's own words (≤ 500 characters) on every report,
added through compliance staff."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from bureau.audit.services import audit_record
from bureau.core.actors import ActorLike
from bureau.core.errors import ValidationFailed
from bureau.records.identity import mask_free_text
from bureau.records.models import Subject, SubjectStatement
from bureau.records.services.disputes import require_compliance


def statement_add(*, subject: Subject, text: str, actor: ActorLike) -> SubjectStatement:
    """Add a statement to a subject's file (compliance). The text is the subject's:
    it is kept as given (trimmed) but for identity numbers and phones, stored
    masked, and never copied into the audit trail."""
    officer = require_compliance(actor)
    text = (text or "").strip()
    limit = SubjectStatement.MAX_LENGTH
    if not text:
        raise ValidationFailed(errors={"text": [_("Give the statement's text.")]})
    if len(text) > limit:
        raise ValidationFailed(
            errors={
                "text": [
                    _("At most %(max)s characters (got %(count)s).")
                    % {"max": limit, "count": len(text)}
                ]
            }
        )
    if not all(ch.isprintable() or ch in "\n\t" for ch in text):
        raise ValidationFailed(
            errors={"text": [_("Must not contain control characters.")]}
        )
    # A statement is on every report of the subject, to every member that asks.
    text = mask_free_text(text)
    with transaction.atomic():
        statement = SubjectStatement.objects.create(
            subject=subject, text=text, added_by=officer
        )
        audit_record(
            actor=actor,
            action="statement.add",
            obj=statement,
            details={"subject": subject.pk, "length": len(text)},
        )
    return statement
