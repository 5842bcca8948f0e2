"""Which of the demo's synthetic persons are on file, and what their files show.

Identity numbers are stored only as keyed hashes, so they cannot be read back:
the demo's persons are generated again from the demo seed (the generator is
deterministic) and matched by hash (`identity_keys.lookup_hashes`, which also
knows older keys during a rotation) against the subjects on file. Nothing clear
is stored; what is printed are synthetic test identities, never a real person's.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from bureau.demo_data.history import SEED, Person, demo_people, showcase_order
from bureau.records import identity, identity_keys
from bureau.records.models import Profile, Subject

KINDS = ("clean", "multi", "blacklisted")


@dataclass(frozen=True)
class OnFile:
    person: Person
    kinds: tuple[str, ...]  # of KINDS: clean, multi(-platform), blacklisted
    platforms: int
    accounts: int
    accounts_overdue: int
    max_days_overdue: int
    blacklisted: bool

    @property
    def kind(self) -> str:
        return self.kinds[0] if self.kinds else ""


def _kinds(profile: Profile | None) -> tuple[str, ...]:
    if profile is None:  # on file as a guarantor only, say
        return ()
    if profile.blacklisted:
        return ("blacklisted",)
    kinds = []
    if profile.platforms_total >= 2:
        kinds.append("multi")
    overdue = profile.accounts_overdue + profile.guarantees_overdue
    if not overdue and not profile.max_days_overdue and profile.accounts_total:
        kinds.append("clean")
    return tuple(kinds)


def persons_on_file(*, seed: int = SEED) -> list[OnFile]:
    """The demo's persons that are on file, showcase ones first (a clean one, a
    multi-platform one, a blacklisted one), then in the generator's order."""
    persons, _ = demo_people(seed)
    first = showcase_order(persons)[:3]
    ordered = first + [p for p in persons if p not in first]
    hashes: dict[tuple[str, str], Person] = {}
    for person in ordered:
        number = identity.normalize_identity(person.id_type, person.id_number)
        for _, id_hash in identity_keys.lookup_hashes(person.id_type, number):
            hashes[(person.id_type, id_hash)] = person
    by_type: dict[str, list[str]] = {}
    for id_type, id_hash in hashes:
        by_type.setdefault(id_type, []).append(id_hash)
    condition = Q()
    for id_type, values in by_type.items():
        condition |= Q(id_type=id_type, id_hash__in=values)
    found: dict[int, tuple[Subject, Profile | None]] = {}
    for subject in Subject.objects.filter(condition).select_related("profile"):
        person = hashes[(subject.id_type, subject.id_hash)]
        profile = getattr(subject, "profile", None)
        found[person.index] = (subject, profile)
    result = []
    for person in ordered:
        if person.index not in found:
            continue
        subject, profile = found[person.index]
        if subject.name != person.name:
            continue  # renamed on file: a query by this name would miss
        result.append(
            OnFile(
                person=person,
                kinds=_kinds(profile),
                platforms=profile.platforms_total if profile else 0,
                accounts=profile.accounts_total if profile else 0,
                accounts_overdue=profile.accounts_overdue if profile else 0,
                max_days_overdue=profile.max_days_overdue if profile else 0,
                blacklisted=bool(profile and profile.blacklisted),
            )
        )
    return result


def pick(found: list[OnFile], *, kind: str | None, count: int) -> list[OnFile]:
    """`count` persons of `kind` (any kind when None), in order."""
    chosen = [p for p in found if kind is None or kind in p.kinds]
    return chosen[:count]


def showcase(found: list[OnFile]) -> list[tuple[str, OnFile]]:
    """(kind, person): one person of each kind, what `make demo` prints."""
    picked: list[tuple[str, OnFile]] = []
    for kind in KINDS:
        for person in found:
            if kind in person.kinds and all(person is not p for _, p in picked):
                picked.append((kind, person))
                break
    return picked


def as_dict(found: OnFile, kind: str | None = None) -> dict:
    person = found.person
    return {
        "kind": kind or found.kind,
        "id_type": person.id_type,
        "id_number": person.id_number,
        "name": person.name,
        "platforms": found.platforms,
        "accounts": found.accounts,
        "accounts_overdue": found.accounts_overdue,
        "max_days_overdue": found.max_days_overdue,
        "blacklisted": found.blacklisted,
    }
