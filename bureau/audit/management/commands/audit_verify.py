from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bureau.audit.selectors import ChainReport, audit_chain_verify
from bureau.audit.services import audit_checkpoint_write


def _broken(report: ChainReport) -> str:
    lines = [
        _(
            "audit chain NOT intact (events read: %(events)s, checkpoints "
            "checked: %(checkpoints)s):"
        )
        % {"events": report.events_checked, "checkpoints": report.checkpoints_checked}
    ]
    lines += [f"[{finding.code}] {finding.message}" for finding in report.findings]
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Verify the audit chain, with its keys, against the signed checkpoints; "
        "exit non-zero naming each finding: truncated, tail_deleted, gap, "
        "rewritten, unknown_key, checkpoint_invalid."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            action="store_true",
            help="After a successful verification, sign and store a checkpoint "
            "of the chain's head.",
        )
        parser.add_argument(
            "--require-checkpoint",
            action="store_true",
            help="Fail when there is no valid checkpoint: a truncated table or a "
            "deleted tail can only be seen against one.",
        )
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args, checkpoint, require_checkpoint, batch_size, **options):
        if batch_size < 1:
            raise CommandError(_("--batch-size must be at least 1."))
        report = audit_chain_verify(batch_size=batch_size)
        if not report.intact:
            raise CommandError(_broken(report))
        latest = report.latest_checkpoint
        if latest is None and require_checkpoint:
            raise CommandError(
                _("no valid checkpoint in %(directory)s (--require-checkpoint)")
                % {"directory": settings.BUREAU_AUDIT_CHECKPOINT_DIR}
            )
        versions = ", ".join(
            f"v{version}: {count}"
            for version, count in report.events_by_key_version.items()
        )
        self.stdout.write(
            ngettext(
                "audit chain intact: %(events)s event verified (%(versions)s); "
                "checkpoints verified: %(checkpoints)s",
                "audit chain intact: %(events)s events verified (%(versions)s); "
                "checkpoints verified: %(checkpoints)s",
                report.events_checked,
            )
            % {
                "events": report.events_checked,
                "versions": versions or "-",
                "checkpoints": report.checkpoints_checked,
            }
        )
        if latest is not None:
            self.stdout.write(
                _("latest checkpoint: sequence %(sequence)s at %(time)s")
                % {"sequence": latest.sequence, "time": latest.created_at}
            )
        elif not checkpoint:
            self.stderr.write(
                _(
                    "warning: no checkpoint in %(directory)s, so a truncated table "
                    "or a deleted tail could not be seen. Beat writes one every "
                    "%(minutes)s minutes; audit_verify --checkpoint writes one now."
                )
                % {
                    "directory": settings.BUREAU_AUDIT_CHECKPOINT_DIR,
                    "minutes": settings.BUREAU_AUDIT_CHECKPOINT_MINUTES,
                }
            )
        if checkpoint:
            path = audit_checkpoint_write(verified=report)
            if path is None:
                self.stdout.write(_("no new event since the latest checkpoint"))
            else:
                self.stdout.write(_("checkpoint written: %(path)s") % {"path": path})
