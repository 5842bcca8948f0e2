from django.core.management.base import BaseCommand, CommandError

from members.management.commands._errors import command_errors
from members.models import ApiKey
from members.services import api_key_rotate


class Command(BaseCommand):
    help = (
        "Rotate an API key by its prefix: issue a successor with the same name, "
        "scopes, networks and expiry; the old key keeps working for the overlap "
        "(default BUREAU_KEY_ROTATION_OVERLAP_HOURS), then expires. Prints the new "
        "full key last (shown only once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("prefix", help="The key's prefix (or the full key).")
        parser.add_argument(
            "--overlap-hours",
            type=float,
            help="Hours both keys work (0 ends the old key now).",
        )

    def handle(self, *args, prefix, overlap_hours, **options):
        prefix = prefix.removeprefix("bk_").split("_", 1)[0]
        key = ApiKey.objects.select_related("member").filter(prefix=prefix).first()
        if key is None:
            raise CommandError(f"No API key with prefix '{prefix}'.")
        with command_errors():
            new, full_key = api_key_rotate(
                key=key, overlap_hours=overlap_hours, actor="command:rotate_api_key"
            )
        self.stdout.write(
            f"Rotated key {key.display} of {key.member.code}: it expires at "
            f"{key.expires_at.isoformat()}; new key {new.display}"
        )
        self.stdout.write(full_key)
