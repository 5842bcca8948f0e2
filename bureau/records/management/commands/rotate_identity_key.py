from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection, transaction

from bureau.audit.services import audit_record
from bureau.records import identity_keys

_LOCK = (0x1B0, 0x1D)  # advisory lock: one rotation at a time


class Command(BaseCommand):
    help = """Re-hash stored subjects to the current identity key version, in
    batches, while look-ups keep working.

    Clear identity numbers are not stored, so hashes are moved by chaining:
    h_new = HMAC(k_new, h_old), computed from the stored hash alone. Look-ups and
    ingest hash a number through every key of the chain, so EVERY earlier key stays
    configured (BUREAU_IDENTITY_KEY_PREVIOUS, BUREAU_IDENTITY_KEYS_OLDER) for good:
    afterwards a database copy plus an old key alone cannot test guesses, but old
    keys cannot be retired without the clear numbers (members furnishing again).

    Order: configure the new key as current and the old one as previous on every
    service (web, worker, beat) and restart them, then run this. Queries try every
    version meanwhile; ingest moves the subjects of each chunk to the new key
    before merging it, so nothing is duplicated. Safe to interrupt and re-run.
    Prints the number of subjects still on older versions last (0 when done)."""

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--status",
            action="store_true",
            help="Only show subjects per key version; change nothing.",
        )

    def handle(self, *args, batch_size, status, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        chain = identity_keys.key_chain()
        counts = identity_keys.version_counts()
        self._show(chain, counts)
        unknown = sorted(set(counts) - {version for version, _ in chain.keys})
        if unknown:
            raise CommandError(
                f"Subjects carry key versions {unknown} that are not configured; "
                "configure every key of the chain before rotating."
            )
        older = [v for v in sorted(counts) if v < chain.current_version]
        if status or not older:
            self.stdout.write(str(sum(counts.get(v, 0) for v in older)))
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", _LOCK)
            if not cursor.fetchone()[0]:
                raise CommandError("Another rotate_identity_key is running.")
        try:
            moved, left = self._rotate(chain, older, batch_size)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", _LOCK)
        counts = identity_keys.version_counts()
        remaining = sum(n for v, n in counts.items() if v < chain.current_version)
        audit_record(
            actor="command:rotate_identity_key",
            action="identity_key.rotate",
            details={
                "from_versions": older,
                "to_version": chain.current_version,
                "rehashed": moved,
                "left_behind": len(left),
                "remaining": remaining,
            },
        )
        self.stdout.write(
            f"Re-hashed {moved} subject(s) to version {chain.current_version}."
        )
        if left:
            self.stderr.write(
                f"{len(left)} subject(s) were left on an older version because a "
                "subject with the current hash exists already (a duplicate made "
                "before this rotation could see it); merge them by hand. Subject "
                f"ids: {', '.join(map(str, left[:100]))}"
            )
        self.stdout.write(str(remaining))

    def _show(self, chain, counts):
        versions = ", ".join(f"v{v}: {n}" for v, n in counts.items()) or "none"
        self.stdout.write(
            f"Current identity key version {chain.current_version}; "
            f"keys configured for versions "
            f"{', '.join(str(v) for v, _ in chain.keys)}; subjects: {versions}."
        )

    def _rotate(self, chain, older, batch_size):
        moved, left = 0, []
        for version in older:
            after = 0
            while True:
                for attempt in range(3):  # a deadlock with an ingest chunk: retry
                    try:
                        with transaction.atomic():
                            last, n, stuck = identity_keys.rehash_subjects(
                                chain,
                                from_version=version,
                                after_id=after,
                                limit=batch_size,
                            )
                        break
                    except OperationalError:
                        if attempt == 2:
                            raise
                if last == after:
                    break
                after = last
                moved += n
                left += stuck
                self.stdout.write(
                    f"v{version} → v{chain.current_version}: {moved} re-hashed "
                    f"(up to subject {after})"
                )
        return moved, left
