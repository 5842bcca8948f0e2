"""Bulk screening: many persons checked under one purpose and consent reference.

`screening_create` refuses a bad request or an unreadable file at once, stores the
file and queues `screen_persons`. `screening_run` streams the file in chunks of
~2,000 persons: per chunk one look-up of subjects with their profiles, one bulk
insert of inquiries (each valid person screened is an inquiry, hit or miss), one of
results, one counter update, all in one transaction. `persons_total` is the last
committed line, so a re-run resumes after it and never duplicates a result.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from bureau.audit.services import audit_record, redact_identity
from bureau.core.actors import ActorLike
from bureau.core.errors import Forbidden
from bureau.records import identity, identity_keys
from bureau.records.fileformat import FileRejected, RowStream, open_rows
from bureau.records.fileformat.reader import ByteSource
from bureau.records.intake import FileKind, file_accept, file_receive
from bureau.records.models import Subject
from bureau.records.selectors import member_contributed_recently, profiles_computed
from members.models import Member
from members.principals import actor_user_and_key
from reports.models import Inquiry, Screening, ScreeningResult
from reports.selectors import screening_results
from reports.services.query import ContributionRequired, name_hash_of, normalise_name
from reports.services.screening_files import screening_file_delete
from reports.services.terms import terms_check

logger = logging.getLogger("bureau.screening")

MAX_PERSONS = 100_000
CHUNK_PERSONS = 2_000
COLUMNS = ("id_type", "id_number", "name")
_COLUMN_SET = frozenset(COLUMNS)
SCREENING_FILE = FileKind(columns=COLUMNS, required=COLUMNS)
_FINAL = (Screening.Status.COMPLETED, Screening.Status.FAILED)
_FIGURES = (
    "blacklisted",
    "platforms_with_overdue",
    "total_amount_overdue",
    "max_days_overdue",
)
_NO_FIGURES = (False, 0, Decimal("0"), 0)
_MSG_NAME = "Give the person's name (1–100 characters)."


class _ChunkAlreadyDone(Exception):
    """Another run committed this chunk first: leave the screening to it."""


# -- reading the file --------------------------------------------------------------


def _open_rows(fileobj: ByteSource, *, fmt: str) -> RowStream:
    """The furnishing-file reader (gzip, utf-8/gbk detected, bad lines reported)
    with the screening header: exactly id_type, id_number and name."""
    return open_rows(fileobj, fmt=fmt, columns=COLUMNS, required=COLUMNS)


# -- receiving a screening -----------------------------------------------------------


def screening_create(
    *,
    actor: ActorLike,
    member: Member | None,
    handle: IO[bytes],
    filename: str,
    content_type: str | None = None,
    purpose: str,
    consent_reference: str,
) -> Screening:
    """Check the request and the file, store it, and queue the screening."""
    if member is None:
        raise Forbidden(gettext("Only member platforms screen persons."))
    terms = terms_check(
        purpose=purpose, consent_reference=consent_reference, actor=actor, bulk=True
    )
    if not member_contributed_recently(
        member=member, days=settings.BUREAU_RECIPROCITY_DAYS
    ):
        raise ContributionRequired()
    received = file_receive(
        handle=handle, filename=filename, content_type=content_type, digest=False
    )
    now = timezone.now()
    accepted = file_accept(
        received=received, kind=SCREENING_FILE, directory=f"screenings/{now:%Y/%m}"
    )
    user, key = actor_user_and_key(actor)
    try:
        with transaction.atomic():
            screening = Screening.objects.create(
                member=member,
                user=user,
                api_key=key,
                purpose=terms.purpose,
                consent_reference=terms.consent_reference,
                file=accepted.name,
                format=accepted.format,
                created_at=now,
            )
            audit_record(
                actor=actor,
                action="screening.create",
                obj=screening,
                member=member,
                details={"purpose": terms.purpose, **accepted.audit_details()},
            )
            transaction.on_commit(lambda: _enqueue(screening.pk))
    except Exception:
        accepted.discard()
        raise
    return screening


def _enqueue(screening_id: int) -> None:
    from reports.tasks import screen_persons

    screen_persons.delay(screening_id)


# -- running a screening ---------------------------------------------------------------


@dataclass(slots=True)
class _Person:
    line: int
    id_type: str = ""
    id_masked: str = ""
    error: str = ""
    id_hash: str = ""
    name: str = ""
    # Hashes under older identity keys, tried too during a key rotation.
    older_hashes: tuple[str, ...] = ()


def _read_person(line: int, values: dict[str, str] | None, errors: list) -> _Person:
    """Validate one line in Python; a bad line is a result with an error message."""
    if values is None:
        message = errors[0].message if errors else "Line could not be read."
        return _Person(line, error=message)
    extra = sorted(set(values) - _COLUMN_SET)
    if extra:  # JSON Lines naming a furnishing column
        return _Person(line, error="Unknown column: " + ", ".join(extra) + ".")
    id_type = identity.normalize_text(values.get("id_type", "")).lower()
    raw = values.get("id_number", "")
    try:
        number = identity.normalize_identity(id_type, raw)
    except identity.IdentityError as exc:
        masked = identity.mask_value_for_column("id_number", raw)[:32]
        return _Person(line, id_type[:16], masked, error=exc.message)
    person = _Person(line, id_type, identity.mask_identity(id_type, number))
    name = normalise_name(values.get("name", ""))
    if not name or len(name) > 100:
        person.error = _MSG_NAME
        return person
    hashes = identity_keys.lookup_hashes(id_type, number)
    person.id_hash = hashes[0][1]
    person.older_hashes = tuple(h for _, h in hashes[1:])
    person.name = name
    return person


def _persons(stream: RowStream, *, after: int) -> Iterator[list[_Person]]:
    chunk: list[_Person] = []
    for line, values, errors in stream:
        if line <= after:
            continue  # committed by an earlier run
        chunk.append(_read_person(line, values, errors))
        if len(chunk) >= CHUNK_PERSONS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _lookup(persons: list[_Person]) -> dict[tuple[str, str], tuple[int, str, tuple]]:
    """(id_type, id_hash) → (subject id, name, profile figures), in one query
    (plus one computing the profiles aggregation has not stored yet)."""
    hashes: dict[str, set[str]] = defaultdict(set)
    for person in persons:
        hashes[person.id_type].update((person.id_hash, *person.older_hashes))
    if not hashes:
        return {}
    # Served by the subject_identity_unique index, one range per id type.
    condition = Q()
    for id_type, values in hashes.items():
        condition |= Q(id_type=id_type, id_hash__in=sorted(values))
    rows = list(
        Subject.objects.filter(condition).values_list(
            "pk",
            "id_type",
            "id_hash",
            "name",
            "profile__subject_id",
            *(f"profile__{name}" for name in _FIGURES),
        )
    )
    missing = [row[0] for row in rows if row[4] is None]
    computed: dict[int, tuple] = {}
    if missing:
        # Aggregation runs after ingest; a screening in between computes the
        # figures now, as a single query does, and stores nothing.
        computed = {
            pk: tuple(getattr(profile, name) for name in _FIGURES)
            for pk, profile in profiles_computed(subject_ids=missing).items()
        }
    return {
        (id_type, id_hash): (
            pk,
            name,
            tuple(figures) if profile_id else computed.get(pk, _NO_FIGURES),
        )
        for pk, id_type, id_hash, name, profile_id, *figures in rows
    }


def _found(found: dict, person: _Person) -> tuple | None:
    for id_hash in (person.id_hash, *person.older_hashes):
        subject = found.get((person.id_type, id_hash))
        if subject is not None:
            return subject
    return None


def _commit_chunk(screening: Screening, persons: list[_Person], *, total: int) -> None:
    valid = [person for person in persons if not person.error]
    found = _lookup(valid)
    now = timezone.now()
    inquiries: list[Inquiry] = []
    results: list[ScreeningResult] = []
    hits = blacklisted = 0
    for person in persons:
        subject = None if person.error else _found(found, person)
        if subject is not None and normalise_name(subject[1]) != person.name:
            subject = None  # same answer as an unknown number
        figures = dict(zip(_FIGURES, subject[2], strict=True)) if subject else {}
        hits += subject is not None
        blacklisted += bool(figures.get("blacklisted"))
        results.append(
            ScreeningResult(
                screening_id=screening.pk,
                line=person.line,
                id_type=person.id_type,
                id_masked=person.id_masked,
                error=person.error[:200],
                found=subject is not None,
                **figures,
            )
        )
        if person.error:
            continue  # not a look-up: no inquiry
        inquiries.append(
            Inquiry(
                member_id=screening.member_id,
                user_id=None if screening.api_key_id else screening.user_id,
                api_key_id=screening.api_key_id,
                subject_id=subject[0] if subject else None,
                id_type=person.id_type,
                id_hash=person.id_hash,
                id_masked=person.id_masked,
                name_hash=name_hash_of(person.name),
                purpose=screening.purpose,
                consent_reference=screening.consent_reference,
                hit=subject is not None,
                screening_id=screening.pk,
                created_at=now,
            )
        )
    last = persons[-1].line
    with transaction.atomic():
        done = Screening.objects.select_for_update().values_list(
            "persons_total", flat=True
        )
        if done.get(pk=screening.pk) != persons[0].line - 1:
            raise _ChunkAlreadyDone(f"lines {persons[0].line}-{last}")
        Inquiry.objects.bulk_create(inquiries)
        ScreeningResult.objects.bulk_create(results)
        Screening.objects.filter(pk=screening.pk).update(
            persons_total=last,
            persons_found=F("persons_found") + hits,
            persons_blacklisted=F("persons_blacklisted") + blacklisted,
            persons_invalid=F("persons_invalid") + len(persons) - len(valid),
            progress=min(last / max(total, 1), 0.99),
        )


def _count_persons(screening: Screening) -> int:
    """Lines in the file, counting no further than MAX_PERSONS + 1."""
    with screening.file.open("rb") as handle:
        stream = _open_rows(handle, fmt=screening.format)
        try:
            count = 0
            for count, _row in enumerate(stream, start=1):
                if count > MAX_PERSONS:
                    break
            return count
        finally:
            stream.close()


def _screen(screening: Screening, *, total: int) -> None:
    with screening.file.open("rb") as handle:
        stream = _open_rows(handle, fmt=screening.format)
        try:
            for chunk in _persons(stream, after=screening.persons_total):
                _commit_chunk(screening, chunk, total=total)
        finally:
            stream.close()


def _finish(screening: Screening, *, status: str, reason: str = "") -> Screening:
    """Final status and the run's one audit event, once whatever the re-runs."""
    with transaction.atomic():
        changes: dict[str, Any] = {
            "status": status,
            "failure_reason": reason[:2000],
            "finished_at": timezone.now(),
        }
        if status == Screening.Status.COMPLETED:
            changes["progress"] = 1.0
        updated = (
            Screening.objects.filter(pk=screening.pk)
            .exclude(status__in=_FINAL)
            .update(**changes)
        )
        screening = Screening.objects.select_related("api_key", "user").get(
            pk=screening.pk
        )
        if updated:
            audit_record(
                actor=screening.api_key or screening.user or "task:screen_persons",
                action="screening.run",
                obj=screening,
                member=screening.member_id,
                details={
                    "status": status,
                    "purpose": screening.purpose,
                    "persons": screening.persons_total,
                    "found": screening.persons_found,
                    "blacklisted": screening.persons_blacklisted,
                    "invalid": screening.persons_invalid,
                    "reason": redact_identity(reason[:200]),
                },
            )
            # Nothing reads the file of a final screening (a re-run returns).
            transaction.on_commit(
                lambda: screening_file_delete(screening_id=screening.pk)
            )
    return screening


def screening_fail(*, screening_id: int, reason: str) -> None:
    """Mark a screening failed (the task gave up on it)."""
    screening = Screening.objects.filter(pk=screening_id).first()
    if screening is not None and screening.status not in _FINAL:
        _finish(screening, status=Screening.Status.FAILED, reason=reason)


def screening_run(*, screening_id: int) -> Screening | None:
    """Run (or resume) a screening to a final status. Safe to call again."""
    screening = Screening.objects.filter(pk=screening_id).first()
    if screening is None:
        logger.warning("screening not found", extra={"kv": {"screening": screening_id}})
        return None
    if screening.status in _FINAL:
        # A duplicate delivery: delete the file if a lost worker left it.
        screening_file_delete(screening_id=screening.pk)
        return screening
    Screening.objects.filter(pk=screening.pk).exclude(status__in=_FINAL).update(
        status=Screening.Status.PROCESSING
    )
    try:
        total = _count_persons(screening)
        if total > MAX_PERSONS:
            reason = (
                f"The file holds more than {MAX_PERSONS:,} persons; "
                f"split it into files of at most {MAX_PERSONS:,}."
            )
            return _finish(screening, status=Screening.Status.FAILED, reason=reason)
        _screen(screening, total=total)
    except FileRejected as exc:
        reason = f"{exc.code}: {exc.detail}"
        return _finish(screening, status=Screening.Status.FAILED, reason=reason)
    except _ChunkAlreadyDone:
        logger.info(
            "screening resumed elsewhere", extra={"kv": {"screening": screening.pk}}
        )
        screening.refresh_from_db()
        return screening
    return _finish(screening, status=Screening.Status.COMPLETED)


def screening_results_read(
    *, actor: ActorLike, screening: Screening, fmt: str
) -> QuerySet[ScreeningResult]:
    """A screening's results in file order; reading them is audited
    (`screening.results_view`, with the format)."""
    audit_record(
        actor=actor,
        action="screening.results_view",
        obj=screening,
        member=screening.member_id,
        details={"format": fmt},
    )
    return screening_results(screening=screening)
