"""The terms of a look-up: the purpose it is made for and the consent behind it.

One place for the rules that queries, watches (reports/services/query.py,
watches.py) and screenings (screening.py) share, and that the API inputs and the
web lookup form show: which purposes an actor may state, when a consent reference
is required, how long it may be, and that it is never a person's number (it is
stored as given on every inquiry, watch and screening).

A look-up of one person may state any purpose; self inquiries and dispute
handling are compliance staff's alone, who need no consent reference for them. A
screening is many persons at once under one consent: member purposes only, and a
consent reference always.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext

from bureau.audit.services import IDENTITY_REFUSED
from bureau.core.actors import ActorLike
from bureau.core.errors import ValidationFailed
from bureau.core.roles import Role
from bureau.records import identity
from reports.models import PURPOSES_WITHOUT_CONSENT, Purpose

CONSENT_MAX = 64
# The purposes any member may state, in Purpose order (the only ones a screening
# may state).
MEMBER_PURPOSES = [p for p in Purpose.values if p not in PURPOSES_WITHOUT_CONSENT]

_MSG_COMPLIANCE_ONLY = "Only compliance staff may use this purpose."
_MSG_CONSENT_REQUIRED = "A consent reference is required for this purpose."
_MSG_CONSENT_TO_SCREEN = "A consent reference is required to screen."


@dataclass(frozen=True)
class RequestTerms:
    """A purpose and a consent reference (trimmed) that passed `terms_check`."""

    purpose: str
    consent_reference: str


def _is_compliance(actor: ActorLike) -> bool:
    return getattr(actor, "role", "") == Role.COMPLIANCE


def purposes_allowed(*, actor: ActorLike) -> list[str]:
    """The purposes `actor` may state for a look-up of one person, in Purpose
    order (the web form offers these)."""
    return list(Purpose.values) if _is_compliance(actor) else MEMBER_PURPOSES


def _one_of(purposes: list[str]) -> str:
    return gettext("Must be one of: %(choices)s.") % {"choices": ", ".join(purposes)}


def _purpose_errors(purpose: str, *, actor: ActorLike, bulk: bool) -> list[str]:
    if bulk:
        return [] if purpose in MEMBER_PURPOSES else [_one_of(MEMBER_PURPOSES)]
    errors = [] if purpose in Purpose.values else [_one_of(Purpose.values)]
    if purpose in PURPOSES_WITHOUT_CONSENT and not _is_compliance(actor):
        errors.append(gettext(_MSG_COMPLIANCE_ONLY))
    return errors


def _consent_error(consent: str, *, purpose: str, actor: ActorLike, bulk: bool) -> str:
    if not consent:
        if bulk:
            return gettext(_MSG_CONSENT_TO_SCREEN)
        if purpose in PURPOSES_WITHOUT_CONSENT and _is_compliance(actor):
            return ""
        return gettext(_MSG_CONSENT_REQUIRED)
    if len(consent) > CONSENT_MAX:
        return gettext("At most %(max)s characters.") % {"max": CONSENT_MAX}
    if identity.holds_identity(consent):
        return gettext(IDENTITY_REFUSED)
    return ""


def terms_check(
    *,
    purpose: str,
    consent_reference: str | None,
    actor: ActorLike,
    bulk: bool = False,
    errors: dict[str, list[str]] | None = None,
) -> RequestTerms:
    """Check the terms of a look-up of one person (or, with `bulk`, of a
    screening). Raises ValidationFailed with the terms' field errors followed by
    the caller's own `errors` (a query reports every field at once)."""
    consent = (consent_reference or "").strip()
    found: dict[str, list[str]] = {}
    if purpose_errors := _purpose_errors(purpose, actor=actor, bulk=bulk):
        found["purpose"] = purpose_errors
    if consent_error := _consent_error(
        consent, purpose=purpose, actor=actor, bulk=bulk
    ):
        found["consent_reference"] = [consent_error]
    found.update(errors or {})
    if found:
        raise ValidationFailed(errors=found)
    return RequestTerms(purpose=purpose, consent_reference=consent)
