"""A purpose-bound query for one person: checks, look-up, inquiry, audit.

Every call that passes the request checks is an Inquiry, hit or miss, and an audit
event. A name that does not match the subject found by number answers exactly like
an unknown number: nothing confirms that the number is on file.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

from bureau.audit.services import audit_record
from bureau.core.context import current_request_id
from bureau.core.errors import Forbidden, NotFound
from bureau.core.ratelimit import rate_limit_count
from bureau.records import identity, identity_keys
from bureau.records.models import Subject
from bureau.records.selectors import (
    contribution_cache_key,
    member_contributed_recently,
)
from members.models import Member
from members.principals import KeyPrincipal, Principal, actor_user_and_key
from reports.models import Inquiry
from reports.selectors import (
    ReportData,
    subject_by_identity,
    subject_report_by_identity,
)
from reports.services.report import ReportClock, build_report
from reports.services.terms import RequestTerms, terms_check


class ContributionRequired(Forbidden):
    code = "contribution_required"
    default_detail = gettext_lazy(
        "Your platform must furnish records to query (give-to-get)."
    )


@dataclass(frozen=True)
class QueryInput:
    id_type: str
    id_number: str
    name: str
    purpose: str
    consent_reference: str = ""


def normalise_name(name: str) -> str:
    """Trim, NFKC (full-width → half-width), case-fold Latin letters, one space."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def name_hash_of(name: str) -> str:
    """Keyed digest of a normalised name, stored on an inquiry instead of the name."""
    return hmac.new(
        identity_keys.current_key(), f"name:{name}".encode(), hashlib.sha256
    ).hexdigest()


def identity_message(exc: identity.IdentityError) -> str:
    """An identity check's message in the active language. The checks are pure
    Python and speak English; their fixed messages are msgids as they are."""
    if exc.code == "invalid_choice":
        return gettext("Identity type is not one of %(choices)s.") % {
            "choices": ", ".join(identity.ID_TYPES)
        }
    return gettext(exc.message)


def _check_request(
    data: QueryInput, *, actor: Principal
) -> tuple[str, str, RequestTerms]:
    errors: dict[str, list[str]] = {}
    name = normalise_name(data.name or "")
    if not name or len(name) > 100:
        errors["name"] = [gettext("Give the person's name (1–100 characters).")]
    normalized = ""
    try:
        normalized = identity.normalize_identity(data.id_type, data.id_number or "")
    except identity.IdentityError as exc:
        field = "id_type" if exc.code == "invalid_choice" else "id_number"
        errors[field] = [identity_message(exc)]
    terms = terms_check(
        purpose=data.purpose,
        consent_reference=data.consent_reference,
        actor=actor,
        errors=errors,
    )
    return normalized, name, terms


def _rate_counter(actor: Principal) -> tuple[str, str]:
    if isinstance(actor, KeyPrincipal):
        return f"query:key:{actor.api_key.pk}", settings.BUREAU_QUERY_RATE_PER_KEY
    return f"query:user:{actor.pk}", settings.BUREAU_QUERY_RATE_PER_USER


def admit_request(
    data: QueryInput, *, actor: Principal, member: Member | None
) -> tuple[str, str, RequestTerms]:
    """The checks every look-up of one person passes (queries, watches): request,
    give-to-get, rate limit. Returns the normalised number and name, and the
    checked terms.

    The rate counter and the cached give-to-get answer are one Redis round trip;
    a refused request is counted too."""
    normalized, name, terms = _check_request(data, actor=actor)
    counter, rate = _rate_counter(actor)
    read = [contribution_cache_key(member.pk)] if member is not None else []
    counted, cached = rate_limit_count(counter, rate, read=read)
    if member is not None and not member_contributed_recently(
        member=member, days=settings.BUREAU_RECIPROCITY_DAYS, cached=cached[0]
    ):
        raise ContributionRequired()
    counted.check()
    return normalized, name, terms


def find_subject(
    id_type: str, normalized: str, name: str
) -> tuple[Subject | None, str]:
    """The subject on file for this number and name, and the number's current hash.
    A name that does not match gives None, exactly like an unknown number."""
    # Current key first; during an identity-key rotation a subject may still carry
    # an older link of the hash chain (bureau/records/identity_keys.py).
    hashes = identity_keys.lookup_hashes(id_type, normalized)
    subject = subject_by_identity(id_type=id_type, id_hashes=[h for _, h in hashes])
    if subject is not None and normalise_name(subject.name) != name:
        subject = None
    return subject, hashes[0][1]


def find_subject_report(
    id_type: str, normalized: str, name: str, *, inquiry_id, clock: ReportClock
) -> tuple[Subject | None, ReportData | None, str]:
    """`find_subject`, and in the same statement the subject's report data, read
    for `inquiry_id` at `clock`. The data is None where PostgreSQL's name filter
    and `normalise_name` disagree (a letter whose lower case is not its case
    fold, say): `build_report` then reads it itself."""
    hashes = identity_keys.lookup_hashes(id_type, normalized)
    found = subject_report_by_identity(
        id_type=id_type,
        id_hashes=[h for _, h in hashes],
        name=name,
        months_from=clock.months_from,
        exclude_inquiry_id=inquiry_id,
        now=clock.now,
    )
    if found is None or normalise_name(found.subject.name) != name:
        return None, None, hashes[0][1]
    return found.subject, found.data, hashes[0][1]


def query_run(
    *, actor: Principal, member: Member | None, data: QueryInput
) -> tuple[Inquiry, dict | None]:
    """Answer a query. Returns the inquiry and the report (None for a miss)."""
    normalized, name, terms = admit_request(data, actor=actor, member=member)
    inquiry_id = uuid.uuid4()
    clock = ReportClock.start()
    subject, found, id_hash = find_subject_report(
        data.id_type, normalized, name, inquiry_id=inquiry_id, clock=clock
    )
    report = None
    if subject is not None:
        report = build_report(
            subject=subject,
            inquiry_id=inquiry_id,
            asking_member_id=member.pk if member else None,
            show_member_names=member is None,
            data=found,
            clock=clock,
        )
    user, key = actor_user_and_key(actor)
    inquiry = Inquiry(
        id=inquiry_id,
        member=member,
        user=user,
        api_key=key,
        subject=subject,
        id_type=data.id_type,
        id_hash=id_hash,
        id_masked=identity.mask_identity(data.id_type, normalized),
        name_hash=name_hash_of(name),
        purpose=terms.purpose,
        consent_reference=terms.consent_reference,
        hit=subject is not None,
        report=report,
        request_id=current_request_id(),
    )
    # The inquiry and its audit event in one statement: both or neither.
    audit_record(
        actor=actor,
        action="query.run",
        obj=inquiry,
        insert_obj=True,
        member=member,
        details={
            "purpose": terms.purpose,
            "hit": inquiry.hit,
            "subject": subject.pk if subject else None,
        },
    )
    return inquiry, report


def query_answer(*, actor: Principal, member: Member | None, data: QueryInput) -> dict:
    """query_run for the API: a miss is a 404 (after the inquiry is recorded)."""
    _, report = query_run(actor=actor, member=member, data=data)
    if report is None:
        raise NotFound(gettext("No matching person on file."))
    return report
