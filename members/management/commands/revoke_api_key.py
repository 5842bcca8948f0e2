from django.core.management.base import BaseCommand, CommandError

from members.models import ApiKey
from members.services import api_key_revoke


class Command(BaseCommand):
    help = "Revoke an API key by its prefix (the part after 'bk_'); prints the prefix."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, prefix, **options):
        prefix = prefix.removeprefix("bk_").split("_", 1)[0]
        key = ApiKey.objects.filter(prefix=prefix).first()
        if key is None:
            raise CommandError(f"No API key with prefix '{prefix}'.")
        api_key_revoke(key=key, actor="command:revoke_api_key")
        self.stdout.write(f"Revoked key {key.display} of {key.member.code}")
        self.stdout.write(key.prefix)
