"""Demo data: five member platforms with two years of furnished history, logins
for the first three (one per role), one API key per member, and the activity of
the last weeks (inquiries, disputes, statements, watches, a webhook, a screening).

Idempotent: members and users are reused (passwords reset to the demo password);
the history is seeded once (bureau/demo_data) and kept by later runs; each run
revokes the previous demo keys and issues fresh ones, since a key's secret can
only ever be shown when it is created.
"""

import json
import os
import time

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.translation import gettext as _

from bureau.demo_data import persons as demo_persons
from bureau.demo_data.history import MEMBERS, build_portfolio
from bureau.demo_data.plan import build_plan
from bureau.demo_data.seed import (
    Actors,
    Clock,
    HistorySeeder,
    demo_batches_exist,
)
from bureau.records.models import Batch, Record
from members.models import ApiKey, Member, Role, User
from members.services import api_key_create, api_key_revoke, member_create, user_create

DEMO_MEMBERS = [(code, name, kind) for code, name, kind, *_ in MEMBERS]
STAFFED_CODES = ("anxin", "huixin", "jieyi")  # members with logins and demo keys
MEMBER_STAFF = [Role.MEMBER_ADMIN, Role.UPLOADER, Role.ANALYST]
BUREAU_STAFF = [Role.BUREAU_ADMIN, Role.COMPLIANCE, Role.AUDITOR]
DEMO_CODES = tuple(code for code, _, _ in DEMO_MEMBERS)
DEMO_KEY_NAME = "demo"
INTEGRATION_KEY_NAME = "core-banking"  # what the history was furnished with
ACTOR = "command:seed_demo"
_THROWAWAY_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


class Command(BaseCommand):
    help = (
        "Seed demo members, users (one per role), API keys and two years of "
        "furnished history. Safe to run twice: the history is kept."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="Print a JSON summary last.",
        )
        parser.add_argument(
            "--no-clock",
            action="store_true",
            help="Do not move the clock (time-machine): all activity dated now.",
        )

    @transaction.atomic
    def handle(self, *args, as_json: bool = False, no_clock: bool = False, **options):
        password = os.environ.get("BUREAU_DEMO_PASSWORD")
        if not password:
            raise CommandError(
                "Set BUREAU_DEMO_PASSWORD (make demo writes one into .env)."
            )
        started = time.monotonic()
        clock = Clock(move=not no_clock)
        members = Member.objects.filter(code__in=DEMO_CODES)
        seeding = not demo_batches_exist(list(members))
        portfolio = plan = None
        joined = timezone.now()
        if seeding:
            now = clock.limit
            portfolio = build_portfolio(timezone.localdate(now))
            plan = build_plan(portfolio, now=now, tz=timezone.get_current_timezone())
            joined = plan.start
        with clock.at(joined):
            actors, users = self._members_and_users(password, seeding=seeding)
        notice = ""
        history: dict[str, object]
        if seeding:
            assert portfolio is not None and plan is not None  # built above
            stats = HistorySeeder(portfolio, plan, actors, clock).run()
            if not clock.moves:
                notice = _(
                    "The clock was not moved (--no-clock, or time-machine from "
                    "requirements-dev.txt is not installed): the demo's history "
                    "is dated today."
                )
            history = {
                "seeded": True,
                "batches": stats.batches,
                "inquiries": stats.inquiries,
            }
        else:
            last = Batch.objects.filter(member__code__in=DEMO_CODES).aggregate(
                last=Max("finished_at")
            )["last"]
            history = {
                "seeded": False,
                "last_batch": timezone.localdate(last).isoformat() if last else "",
            }
        summary = {
            "password": password,
            "users": users,
            "keys": self._demo_keys(),
            "records": Record.objects.filter(member__code__in=DEMO_CODES).count(),
            "history": history,
            "notice": notice,
            "persons": [
                demo_persons.as_dict(person, kind)
                for kind, person in demo_persons.showcase(
                    demo_persons.persons_on_file()
                )
            ],
            "seconds": round(time.monotonic() - started, 1),
        }
        self._print(summary, as_json=as_json)

    def _members_and_users(self, password: str, *, seeding: bool):
        # One hash for every demo login (they share the password anyway): each
        # PBKDF2 hash costs the better part of a second.
        encoded = make_password(password)
        users: dict[str, User] = {}
        listed = []
        for role in BUREAU_STAFF:
            username = role.value.removeprefix("bureau_")
            users[username] = self._user(username, role, None, password, encoded)
            listed.append({"username": username, "role": role.value, "member": None})
        by_code: dict[str, Member] = {}
        keys: dict[str, ApiKey] = {}
        for code, name, kind in DEMO_MEMBERS:
            member = Member.objects.filter(code=code).first() or member_create(
                code=code, name=name, kind=kind, actor=ACTOR
            )
            by_code[code] = member
            if code in STAFFED_CODES:
                for role in MEMBER_STAFF:
                    username = f"{code}_{role.value}"
                    users[username] = self._user(
                        username, role, member, password, encoded
                    )
                    listed.append(
                        {"username": username, "role": role.value, "member": code}
                    )
            key = ApiKey.objects.filter(
                member=member, name=INTEGRATION_KEY_NAME, revoked_at=None
            ).first()
            if key is None and seeding:
                # Its secret is not kept: the history's uploads and queries name it.
                key, _secret = api_key_create(
                    member=member,
                    name=INTEGRATION_KEY_NAME,
                    scopes=["upload", "query", "monitor"],
                    actor=ACTOR,
                )
            if key is not None:
                keys[code] = key
        return Actors(keys=keys, users=users, members=by_code), listed

    def _user(
        self,
        username: str,
        role: str,
        member: Member | None,
        password: str,
        encoded: str,
    ) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            # user_create hashes the password; the hash is replaced at once by the
            # shared one (same password, same strength), so a cheap one will do.
            with override_settings(PASSWORD_HASHERS=[_THROWAWAY_HASHER]):
                user, _ = user_create(
                    username=username,
                    role=role,
                    member=member,
                    password=password,
                    actor=ACTOR,
                )
        if user.password != encoded:
            user.password = encoded
            user.save(update_fields=["password"])
        return user

    def _demo_keys(self) -> list[dict]:
        keys = []
        for member in Member.objects.filter(code__in=STAFFED_CODES).order_by("pk"):
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
            keys.append({"member": member.code, "key": full_key})
        return keys

    def _print(self, summary: dict, *, as_json: bool) -> None:
        write = self.stdout.write
        write(_("Logins (password for all: %s):") % summary["password"])
        for user in summary["users"]:
            member = user["member"] or "bureau"
            write(f"  {user['username']:<24} {user['role']:<14} {member}")
        write(_("Records on file for the demo members: %d") % summary["records"])
        history = summary["history"]
        if history["seeded"]:
            write(
                _("History seeded: %(batches)d batches, %(inquiries)d inquiries.")
                % history
            )
        else:
            write(
                _(
                    "History already seeded (last batch %(last_batch)s): kept as "
                    "it is. `make clean` then `make demo` seeds it anew."
                )
                % history
            )
        if summary["notice"]:
            write(summary["notice"])
        if not summary["persons"]:
            write(
                _(
                    "No demo person is on file: the data predates this demo. "
                    "`make clean` then `make demo` seeds it anew."
                )
            )
        write(_("Persons on file (synthetic test identities):"))
        for person in summary["persons"]:
            write(
                f"  {person['kind']:<12} {person['id_type']:<12} "
                f"{person['id_number']:<20} {person['name']}"
            )
        write(_("API keys (upload, query, monitor; shown once):"))
        for key in summary["keys"]:
            write(f"  {key['member']:<8} {key['key']}")
        if as_json:
            write(json.dumps(summary))
