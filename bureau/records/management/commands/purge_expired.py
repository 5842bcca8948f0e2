from django.core.management.base import BaseCommand

from bureau.records.services.retention import records_purge_expired


class Command(BaseCommand):
    help = (
        "Purge negative records past retention (BUREAU_RETENTION_YEARS after they "
        "ended). Prints counts by member and status; the last line is the count."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only show what would be purged; change nothing.",
        )

    def handle(self, *args, dry_run: bool = False, **options):
        result = records_purge_expired(dry_run=dry_run)
        verb = "would purge" if dry_run else "purged"
        self.stdout.write(f"records that ended on or before {result.cutoff}:")
        for (member, status), count in sorted(result.by_member_status.items()):
            self.stdout.write(f"  {member:<32} {status:<12} {count:>10}")
        summary = f"{verb} {result.records} records of {result.subjects} subjects"
        if not dry_run:
            summary += f" ({result.months} history months, {result.disputes} disputes)"
        self.stdout.write(summary)
        self.stdout.write(str(result.records))
