import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bureau.core.errors import BureauError
from bureau.records.api.serializers import BatchOutput
from bureau.records.services.ingest import batch_ingest
from bureau.records.services.raw_files import batch_file_delete
from bureau.records.services.upload import batch_create
from members.models import Member


class Command(BaseCommand):
    help = (
        "Furnish a file of records for a member (same service as POST /batches/). "
        "Queues the ingest, or runs it here with --now. Prints the batch id last."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--member", required=True, help="Member code.")
        parser.add_argument("--format", choices=["csv", "jsonl"])
        parser.add_argument("--encoding", choices=["utf-8", "gbk"])
        parser.add_argument("--validate-only", action="store_true")
        parser.add_argument("--strict", action="store_true")
        parser.add_argument("--idempotency-key")
        parser.add_argument(
            "--now", action="store_true", help="Ingest in this process."
        )

    def handle(self, *args, **opts):
        member = Member.objects.filter(code=opts["member"]).first()
        if member is None:
            raise CommandError(f"No member with code '{opts['member']}'.")
        path: Path = opts["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            with path.open("rb") as handle:
                batch, created = batch_create(
                    member=member,
                    handle=handle,
                    filename=path.name,
                    fmt=opts["format"],
                    encoding=opts["encoding"],
                    validate_only=opts["validate_only"],
                    strict=opts["strict"],
                    idempotency_key=opts["idempotency_key"],
                    actor="command:upload_batch",
                )
        except BureauError as exc:
            raise CommandError(
                f"{exc.code}: {exc.detail} {exc.errors or ''}".strip()
            ) from exc
        if not created:
            self.stdout.write(
                f"Same file or key as batch {batch.pk}: nothing new queued."
            )
        if opts["now"]:
            batch = batch_ingest(batch_id=batch.pk)
            if batch.is_final and batch_file_delete(batch_id=batch.pk):
                batch.refresh_from_db()
        self.stdout.write(json.dumps(BatchOutput(batch).data, default=str))
        self.stdout.write(str(batch.pk))
