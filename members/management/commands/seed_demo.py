"""Demo data: three member platforms, one login per role, one API key per member.

Idempotent: members and users are reused (passwords reset to the demo password);
each run revokes the previous demo keys and issues fresh ones, since a key's secret
can only ever be shown when it is created.
"""

import json
import os

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from members.models import ApiKey, Member, Role, User
from members.services import api_key_create, api_key_revoke, member_create, user_create

DEMO_MEMBERS = [
    ("anxin", "安信消费金融 Anxin Consumer Finance", Member.Kind.CONSUMER_FINANCE),
    ("huixin", "汇信小贷 Huixin Micro-lending", Member.Kind.MICRO_LENDER),
    ("jieyi", "捷易助贷 Jieyi Loan Services", Member.Kind.LOAN_FACILITATOR),
]
MEMBER_STAFF = [Role.MEMBER_ADMIN, Role.UPLOADER, Role.ANALYST]
BUREAU_STAFF = [Role.BUREAU_ADMIN, Role.COMPLIANCE, Role.AUDITOR]
DEMO_KEY_NAME = "demo"
ACTOR = "command:seed_demo"


class Command(BaseCommand):
    help = "Seed demo members, users (one per role) and API keys. Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="Print a JSON summary last.",
        )

    def _user(
        self, username: str, role: str, member: Member | None, password: str
    ) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            user, _ = user_create(
                username=username,
                role=role,
                member=member,
                password=password,
                actor=ACTOR,
            )
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        return user

    @transaction.atomic
    def handle(self, *args, as_json: bool = False, **options):
        password = os.environ.get("BUREAU_DEMO_PASSWORD")
        if not password:
            raise CommandError(
                "Set BUREAU_DEMO_PASSWORD (make demo writes one into .env)."
            )
        summary = {"password": password, "users": [], "keys": []}
        for username, role in [
            (r.value.removeprefix("bureau_"), r) for r in BUREAU_STAFF
        ]:
            self._user(username, role, None, password)
            summary["users"].append(
                {"username": username, "role": role.value, "member": None}
            )
        for code, name, kind in DEMO_MEMBERS:
            member = Member.objects.filter(code=code).first() or member_create(
                code=code, name=name, kind=kind, actor=ACTOR
            )
            for role in MEMBER_STAFF:
                username = f"{code}_{role.value}"
                self._user(username, role, member, password)
                summary["users"].append(
                    {"username": username, "role": role.value, "member": code}
                )
            for old in ApiKey.objects.filter(
                member=member, name=DEMO_KEY_NAME, revoked_at=None
            ):
                api_key_revoke(key=old, actor=ACTOR)
            _, full_key = api_key_create(
                member=member,
                name=DEMO_KEY_NAME,
                scopes=["upload", "query", "monitor"],
                actor=ACTOR,
            )
            summary["keys"].append({"member": code, "key": full_key})
        self._print(summary, as_json=as_json)

    def _print(self, summary: dict, *, as_json: bool) -> None:
        self.stdout.write(f"Logins (password for all: {summary['password']}):")
        for user in summary["users"]:
            member = user["member"] or "bureau"
            self.stdout.write(f"  {user['username']:<24} {user['role']:<14} {member}")
        self.stdout.write("API keys (upload, query, monitor; shown once):")
        for key in summary["keys"]:
            self.stdout.write(f"  {key['member']:<8} {key['key']}")
        if as_json:
            self.stdout.write(json.dumps(summary))
