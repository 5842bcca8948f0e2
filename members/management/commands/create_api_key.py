from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from members.management.commands._errors import command_errors
from members.models import Member
from members.services import api_key_create


class Command(BaseCommand):
    help = "Issue an API key for a member. Prints the full key last (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("--member", required=True, help="Member code.")
        parser.add_argument(
            "--scopes", required=True, help="Comma-separated: upload,query,monitor"
        )
        parser.add_argument("--name", default="cli")
        parser.add_argument("--expires-days", type=int)
        parser.add_argument(
            "--allowed-networks", default="", help="Comma-separated CIDRs."
        )

    def handle(
        self, *args, member, scopes, name, expires_days, allowed_networks, **options
    ):
        member_obj = Member.objects.filter(code=member).first()
        if member_obj is None:
            raise CommandError(f"No member with code '{member}'.")
        expires_at = None
        if expires_days is not None:  # 0 is a (refused) expiry, not "never"
            try:
                expires_at = timezone.now() + timedelta(days=expires_days)
            except OverflowError as exc:
                raise CommandError("--expires-days is too large.") from exc
        with command_errors():
            key, full_key = api_key_create(
                member=member_obj,
                name=name,
                scopes=[s.strip() for s in scopes.split(",") if s.strip()],
                expires_at=expires_at,
                allowed_networks=[n for n in allowed_networks.split(",") if n.strip()],
                actor="command:create_api_key",
            )
        self.stdout.write(
            f"Created key {key.display} for {member_obj.code} ({', '.join(key.scopes)})"
        )
        self.stdout.write(full_key)
