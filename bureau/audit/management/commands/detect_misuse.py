import json

from django.core.management.base import BaseCommand

from bureau.audit.misuse import misuse_detect


class Command(BaseCommand):
    help = (
        "Run the misuse rules over the hour that just ended and raise alerts. "
        "Prints one line per alert, the count last."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would be raised."
        )

    def handle(self, *args, dry_run: bool, **options):
        alerts = misuse_detect(dry_run=dry_run)
        for alert in alerts:
            key = f" key={alert.api_key.prefix}" if alert.api_key else ""
            # Every rule's alert names a member; the column allows none.
            member = alert.member.code if alert.member else "-"
            self.stdout.write(
                f"{alert.rule} severity={alert.severity} "
                f"member={member}{key} "
                f"window={alert.window_start.isoformat()}/"
                f"{alert.window_end.isoformat()} "
                f"evidence={json.dumps(alert.evidence, sort_keys=True)}"
            )
        verb = "would raise" if dry_run else "raised"
        self.stdout.write(f"{verb} {len(alerts)} alerts")
        self.stdout.write(str(len(alerts)))
