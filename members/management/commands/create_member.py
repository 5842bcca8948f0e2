from django.core.management.base import BaseCommand

from members.management.commands._errors import command_errors
from members.models import Member
from members.services import member_create


class Command(BaseCommand):
    help = "Create a member platform. Prints the member code last."

    def add_arguments(self, parser):
        parser.add_argument("--code", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--kind", default=Member.Kind.OTHER, choices=Member.Kind.values
        )

    def handle(self, *args, code, name, kind, **options):
        with command_errors():
            member = member_create(
                code=code, name=name, kind=kind, actor="command:create_member"
            )
        self.stdout.write(f"Created member {member.name}")
        self.stdout.write(member.code)
