"""Print persons of the demo data that are on file, to query in the demo.

They are synthetic test identities (valid checksums, made-up names), generated
again from the demo seed and matched by hash against the subjects on file: no
identity number is stored in clear anywhere (bureau/demo_data/persons.py).
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from bureau.demo_data import persons as demo_persons


class Command(BaseCommand):
    help = (
        "Print demo persons on file (synthetic test identities): clean, "
        "multi-platform or blacklisted."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--kind",
            choices=demo_persons.KINDS,
            help="Only persons of this kind (default: any).",
        )
        parser.add_argument(
            "--count", type=int, default=10, help="How many (default 10)."
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON lines."
        )

    def handle(self, *args, kind=None, count=10, as_json=False, **options):
        if count < 1:
            raise CommandError(_("--count must be at least 1."))
        found = demo_persons.pick(
            demo_persons.persons_on_file(), kind=kind, count=count
        )
        if not found:
            raise CommandError(
                _(
                    "No demo person is on file: run `manage.py seed_demo` "
                    "(or `make demo`) first."
                )
            )
        if as_json:
            for person in found:
                item = demo_persons.as_dict(person, kind)
                self.stdout.write(json.dumps(item, ensure_ascii=False))
            return
        self.stdout.write(
            _("Synthetic test identities, not real persons. Query one with purpose "
              "loan_approval and any consent reference.")
        )  # fmt: skip
        header = (_("kind"), _("id type"), _("id number"), _("name"), _("platforms"),
                  _("overdue accounts"), _("max days overdue"))  # fmt: skip
        self.stdout.write(
            f"{header[0]:<12} {header[1]:<12} {header[2]:<20} {header[3]:<16} "
            f"{header[4]:>9} {header[5]:>16} {header[6]:>16}"
        )
        for person in found:
            row = demo_persons.as_dict(person, kind)
            self.stdout.write(
                f"{row['kind']:<12} {row['id_type']:<12} {row['id_number']:<20} "
                f"{row['name']:<16} {row['platforms']:>9} "
                f"{row['accounts_overdue']:>16} {row['max_days_overdue']:>16}"
            )
