"""Demo data: three member platforms, one login per role, one API key per member.

Idempotent: members and users are reused (passwords reset to the demo password);
each run revokes the previous demo keys and issues fresh ones, since a key's secret
can only ever be shown when it is created.
"""

import json
import os
import tempfile

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from bureau.records.generator import GeneratorConfig, write_member_files
from bureau.records.models import Record
from bureau.records.services.aggregate import profiles_rebuild
from bureau.records.services.ingest import batch_ingest
from bureau.records.services.raw_files import batch_file_delete
from bureau.records.services.upload import batch_create
from members.models import ApiKey, Member, Role, User
from members.services import api_key_create, api_key_revoke, member_create, user_create

DEMO_MEMBERS = [
    ("anxin", "安信消费金融 Anxin Consumer Finance", Member.Kind.CONSUMER_FINANCE),
    ("huixin", "汇信小贷 Huixin Micro-lending", Member.Kind.MICRO_LENDER),
    ("jieyi", "捷易助贷 Jieyi Loan Services", Member.Kind.LOAN_FACILITATOR),
]
MEMBER_STAFF = [Role.MEMBER_ADMIN, Role.UPLOADER, Role.ANALYST]
BUREAU_STAFF = [Role.BUREAU_ADMIN, Role.COMPLIANCE, Role.AUDITOR]
DEMO_CODES = tuple(code for code, _, _ in DEMO_MEMBERS)
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
        summary["records"] = self._records()
        self._print(summary, as_json=as_json)

    def _records(self) -> int:
        """A few hundred generated records, borrowers shared across the members,
        furnished through the real ingest path. Only once: later runs keep them."""
        members = {m.code: m for m in Member.objects.filter(code__in=DEMO_CODES)}
        if Record.objects.filter(member__in=members.values()).exists():
            return Record.objects.filter(member__in=members.values()).count()
        config = GeneratorConfig(
            members=len(DEMO_CODES),
            subjects=150,
            rows=450,
            seed=2026,
            member_codes=list(DEMO_CODES),
            error_rate=0.02,
        )
        with tempfile.TemporaryDirectory() as tmp:
            for code, path in write_member_files(config, tmp).items():
                with path.open("rb") as handle:
                    batch, _ = batch_create(
                        member=members[code],
                        handle=handle,
                        filename=f"demo-{code}.csv",
                        actor=ACTOR,
                    )
                batch_ingest(batch_id=batch.pk)
                batch_file_delete(batch_id=batch.pk)
        profiles_rebuild()
        return Record.objects.filter(member__in=members.values()).count()

    def _print(self, summary: dict, *, as_json: bool) -> None:
        self.stdout.write(f"Logins (password for all: {summary['password']}):")
        for user in summary["users"]:
            member = user["member"] or "bureau"
            self.stdout.write(f"  {user['username']:<24} {user['role']:<14} {member}")
        self.stdout.write(f"Records on file for the demo members: {summary['records']}")
        self.stdout.write("API keys (upload, query, monitor; shown once):")
        for key in summary["keys"]:
            self.stdout.write(f"  {key['member']:<8} {key['key']}")
        if as_json:
            self.stdout.write(json.dumps(summary))
