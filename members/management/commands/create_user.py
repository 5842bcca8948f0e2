import sys

from django.core.management.base import BaseCommand, CommandError

from members.management.commands._errors import command_errors
from members.models import Member, Role
from members.services import user_create


class Command(BaseCommand):
    help = (
        "Create a login. The password is read from --password-stdin or generated; "
        "a generated password is printed last."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--member", help="Member code (member roles only).")
        parser.add_argument("--email", default="")
        parser.add_argument("--password-stdin", action="store_true")

    def handle(self, *args, username, role, member, email, password_stdin, **options):
        member_obj = None
        if member:
            member_obj = Member.objects.filter(code=member).first()
            if member_obj is None:
                raise CommandError(f"No member with code '{member}'.")
        password = sys.stdin.readline().rstrip("\n") if password_stdin else None
        with command_errors():
            user, generated = user_create(
                username=username,
                role=role,
                member=member_obj,
                password=password,
                email=email,
                actor="command:create_user",
            )
        self.stdout.write(f"Created user {user.username} ({role})")
        self.stdout.write(generated if generated is not None else user.username)
