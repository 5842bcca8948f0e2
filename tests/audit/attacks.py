"""What someone who can write the audit table does to it, in SQL, as its owner.

Every helper goes around the append-only triggers the way an attacker holding
the table would (ALTER TABLE … DISABLE TRIGGER), then puts them back."""

from __future__ import annotations

import json
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import translation

from bureau.audit.chain import chain_hash, keyed_chain_hash
from bureau.audit.models import AuditEvent


def as_owner(*statements: tuple[str, list]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        for sql, params in statements:
            cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def rows_from(sequence: int) -> list[dict]:
    return list(
        AuditEvent.objects.filter(sequence__gte=sequence).order_by("sequence").values()
    )


def rewrite_and_rehash(sequence: int, details: dict, rehash, *, version=None) -> None:
    """Change one event's details, then recompute its hash and every later one
    with `rehash(prev_hash, row)`, mending each link: the chain looks whole to
    anyone who checks it with `rehash`. `version`: also claim that key version."""
    rows = rows_from(sequence)
    rows[0]["details"] = details
    prev = rows[0]["prev_hash"]
    statements = []
    for row in rows:
        if version is not None:
            row["chain_key_version"] = version
        row["prev_hash"] = prev
        row["hash"] = rehash(prev, row)
        statements.append(
            (
                "UPDATE audit_auditevent SET details = %s::jsonb, prev_hash = %s,"
                " hash = %s, chain_key_version = %s WHERE sequence = %s",
                [
                    json.dumps(row["details"]),
                    row["prev_hash"],
                    row["hash"],
                    row["chain_key_version"],
                    row["sequence"],
                ],
            )
        )
        prev = row["hash"]
    as_owner(*statements)


def plain_sha256(prev_hash: str, row: dict) -> str:
    """The project's own unkeyed function, as it was before keying."""
    return chain_hash(prev_hash, row)


def with_key(key: bytes):
    return lambda prev_hash, row: keyed_chain_hash(key, prev_hash, row)


def verify(*args: str) -> tuple[bool, str]:
    """Run `audit_verify` in English: (passed, what it said)."""
    out, err = StringIO(), StringIO()
    with translation.override("en"):
        try:
            call_command("audit_verify", *args, stdout=out, stderr=err)
        except CommandError as error:
            return False, str(error)
    return True, out.getvalue() + err.getvalue()
