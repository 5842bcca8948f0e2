from django.core.management.base import BaseCommand, CommandError

from bureau.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit hash chain; exit non-zero naming the first broken row."

    def handle(self, *args, **options):
        report = audit_chain_verify()
        if not report.intact:
            raise CommandError(
                f"audit chain broken at sequence {report.first_broken_sequence}: "
                f"{report.reason} ({report.events_checked} events verified before it)"
            )
        self.stdout.write(
            f"audit chain intact: {report.events_checked} events verified"
        )
