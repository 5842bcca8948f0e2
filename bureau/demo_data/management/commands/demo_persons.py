"""Print persons of the demo data that are on file, to query in the demo.

They are synthetic test identities (valid checksums, made-up names), generated
again from the demo seed and matched by hash against the subjects on file: no
identity number is stored in clear anywhere (bureau/demo_data/persons.py).
"""

import json
import unicodedata

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from bureau.demo_data import persons as demo_persons


def _pad(text: str, width: int) -> str:
    """Left-justify by display width: a Chinese character takes two columns."""
    wide = sum(unicodedata.east_asian_width(ch) in "WF" for ch in text)
    return text + " " * max(0, width - len(text) - wide)


COLUMNS = ("kind", "id_type", "id_number", "name", "platforms", "accounts_overdue",
           "max_days_overdue")  # fmt: skip
WIDTHS = (12, 12, 20, 16, 8, 12, 14)


def _line(cells) -> str:
    return " ".join(
        _pad(str(cell), width) for cell, width in zip(cells, WIDTHS, strict=True)
    ).rstrip()


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
        self.stdout.write(_line(header))
        for person in found:
            row = demo_persons.as_dict(person, kind)
            self.stdout.write(_line([row[column] for column in COLUMNS]))
