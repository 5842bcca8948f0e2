"""Query benchmark, the request mix: persons on file replayed from the
generator's stream, persons never on file, shuffled ~80/20, and the body of one
query."""

from __future__ import annotations

import json
import random
from datetime import date

from query_seed import generator_config

UNKNOWN_REGION = "460100"  # Haikou: not among the generator's regions, never seeded


def sample_people(rows: int, subjects: int, seed: int, today: date, n: int) -> list:
    """(id_type, id_number, name) of n seeded subjects spread over the whole file,
    replayed from the generator's deterministic stream."""
    from bureau.records.generator import iter_rows

    stride = max(1, min(subjects, rows) // n)
    people, previous, index = [], None, -1
    for _code, row in iter_rows(generator_config(rows, subjects, seed, today)):
        if row["id_number"] == previous:
            continue
        previous, index = row["id_number"], index + 1
        if index % stride == 0 and len(people) < n:
            people.append((row["id_type"], row["id_number"], row["name"]))
    return people


def unknown_people(n: int, seed: int) -> list:
    """Valid resident ids from a region the generator never uses: never on file."""
    from bureau.records.identity import resident_id_check_char

    rng = random.Random(seed + 1)
    first = date(1960, 1, 1).toordinal()
    people: dict[str, tuple] = {}
    while len(people) < n:
        born = date.fromordinal(first + rng.randrange(16_000)).strftime("%Y%m%d")
        body = f"{UNKNOWN_REGION}{born}{rng.randrange(1000):03d}"
        number = body + resident_id_check_char(body)
        people[number] = ("resident_id", number, "无名氏")
    return list(people.values())


def build_mix(known: list, unknown: list, size: int, seed: int) -> list[tuple]:
    """`size` persons, ~80% known and ~20% unknown, shuffled: (person, known?)."""
    rng = random.Random(seed + 2)
    n_known = size * 4 // 5
    mix = [(known[i % len(known)], True) for i in range(n_known)]
    mix += [(unknown[i % len(unknown)], False) for i in range(size - n_known)]
    rng.shuffle(mix)
    return mix


def request_body(person: tuple, i: int) -> bytes:
    id_type, id_number, name = person
    body = {
        "id_type": id_type,
        "id_number": id_number,
        "name": name,
        "purpose": "loan_approval",
        "consent_reference": f"bench-consent-{i:06d}",
    }
    return json.dumps(body, ensure_ascii=False).encode()
